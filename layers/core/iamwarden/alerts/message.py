"""One alert message per finding and outcome, before any channel renders it.

``build_message`` turns a ``Notification`` into an ``AlertMessage``: the
title with its severity, what changed and when, who did it and how, where
(account and alias, region, resource with a console link), why it is risky in
one plain sentence, what IAM Warden did (or would do), how to undo it, how to
ask for an exception, and the ids for the audit trail. Every channel renders
this one model (``render.py`` for text and Markdown, ``slack.py`` for Block
Kit, ``sns.py`` for SNS), so they never disagree.

Pure: no AWS calls, no clock. The only time in a message is the event's own,
so the same notification always renders the same bytes (snapshot tests rely
on it).

Text fields use one light markup that every renderer understands: a
backtick-quoted span is code. Values that come from an event are quoted with
``code()``, which cannot be broken out of; renderers escape everything else
for their channel (Slack's ``&``, ``<``, ``>``).
"""

import json
from collections.abc import Mapping
from typing import Any, NamedTuple
from urllib.parse import quote

from iamwarden.alerts.notifications import Notification
from iamwarden.domain.arns import bucket_of_arn
from iamwarden.domain.breaker import kill_switch_name
from iamwarden.domain.catalog import Mode, Severity
from iamwarden.domain.earlier_sessions import PREFIX as EARLIER_SESSIONS
from iamwarden.domain.earlier_sessions import code, shown_block
from iamwarden.domain.events import Actor, CloudTrailChange
from iamwarden.domain.exceptions import SettingsProblem
from iamwarden.domain.findings import Finding, Outcome
from iamwarden.guardrails.registry import RULES

SCHEMA = "iamwarden.alert/1"

SEVERITY_BADGES: Mapping[Severity, str] = {
    Severity.CRITICAL: "🔴",
    Severity.HIGH: "🟠",
    Severity.MEDIUM: "🟡",
    Severity.LOW: "🔵",
}
#: An invalid setting weakens a guardrail (its rule falls back to alert), so operators hear of it like a high finding.
CONFIGURATION_SEVERITY = Severity.HIGH
#: What it says of an event whose time does not read as one (``guardrails.engine._rejected_time``).
UNREADABLE_TIME = "a CloudTrail record always has one"
#: The ``rule`` message attribute of configuration errors (no single rule owns them).
CONFIGURATION_RULE = "settings"

#: Why each rule's finding is risky, in one sentence a non-expert understands.
RISKS: dict[str, str] = {spec.id: spec.alert_risk for spec in RULES.values() if spec.alert_risk}

_OUTCOME_LABELS: Mapping[Outcome, str] = {
    Outcome.ALERTED: "Alert",
    Outcome.REMEDIATED: "Remediated",
    Outcome.REMEDIATION_FAILED: "Remediation failed",
    Outcome.NOTEWORTHY: "Noteworthy",
    Outcome.CONFIGURATION_ERROR: "Configuration error",
    Outcome.REJECTED: "Event rejected",
    Outcome.CIRCUIT_BREAKER_TRIPPED: "Circuit breaker tripped",
}
#: Remediation stopped everywhere: the security team must look now.
BREAKER_SEVERITY = Severity.CRITICAL
#: What it says of an event whose time does not read as one (``guardrails.engine._rejected_time``).
UNREADABLE_TIME = "a CloudTrail record always has one"
#: The ``rule`` message attribute of the circuit breaker's alert.
BREAKER_RULE = "circuit-breaker"
#: An event that names another account may be an attempt to steer IAM Warden across accounts.
REJECTION_SEVERITY = Severity.HIGH
#: What the engine's reason says of an event dated after its clock (``guardrails.engine._rejected_time``).
FROM_THE_FUTURE = "a CloudTrail record cannot come from the future"
#: What it says of an event whose time does not read as one (``guardrails.engine._rejected_time``).
UNREADABLE_TIME = "a CloudTrail record always has one"
#: The ``rule`` message attribute of rejected events (no rule judged them).
REJECTION_RULE = "security"

_CHANNELS: Mapping[str, str] = {
    "console": "in the AWS console",
    "cli": "with the AWS CLI",
    "sdk": "with an AWS SDK or script",
    "terraform": "with Terraform",
    "cloudformation": "through CloudFormation or the CDK",
    "aws-service": "by an AWS service",
    "unknown": "with an unknown client",
}

_CONSOLES: Mapping[str, str] = {
    "aws": "https://console.aws.amazon.com",
    "aws-cn": "https://console.amazonaws.cn",
    "aws-us-gov": "https://console.amazonaws-us-gov.com",
}
_S3_CONSOLES: Mapping[str, str] = {**_CONSOLES, "aws": "https://s3.console.aws.amazon.com"}


class Owner(NamedTuple):
    """The team that owns the resource, and how IAM Warden knows (``tag team on role app-backend``)."""

    team: str
    source: str


class Fact(NamedTuple):
    """One labelled fact; ``literal`` is shown as code under the value (an ARN), ``link`` links the value."""

    label: str
    value: str
    link: str | None = None
    literal: str | None = None


class Section(NamedTuple):
    heading: str
    lines: tuple[str, ...]
    bullets: bool = False


class Details(NamedTuple):
    """Long, exact material (policy statements, invalid settings) shown as a code block, truncated per channel."""

    heading: str
    text: str


class AlertMessage(NamedTuple):
    """Everything one alert says, channel-neutral. ``record`` is the full JSON body for machines."""

    outcome: Outcome
    severity: Severity
    rule_id: str
    account: str
    title: str
    summary: str
    facts: tuple[Fact, ...]
    sections: tuple[Section, ...]
    details: Details | None
    audit: tuple[Fact, ...]
    record: Mapping[str, Any]

    @property
    def badge(self) -> str:
        return f"{SEVERITY_BADGES[self.severity]} {self.severity.value.upper()}"

    @property
    def header(self) -> str:
        """The first line every channel shows: severity at a glance, then the title."""
        return f"{self.badge} · {self.title}"

    @property
    def subject(self) -> str:
        """ASCII, one line, under 100 characters: what SNS accepts as an e-mail subject."""
        text = f"[{self.severity.value.upper()}] {self.title}"
        text = "".join(char if " " <= char <= "~" else "?" for char in text)
        return text if len(text) <= 99 else text[:96].rstrip() + "..."

    @property
    def audit_ids(self) -> Mapping[str, str]:
        return {fact.label: fact.value for fact in self.audit}


def risk_of(rule_id: str) -> str:
    """Why a rule's finding is risky: our sentence, else the catalogue's, else a generic one."""
    if rule_id in RISKS:
        return RISKS[rule_id]
    spec = RULES.get(rule_id)
    if spec is not None:
        return spec.risk
    return (
        f"The change breaks the guardrail {rule_id}, which this organisation set to keep access to what was intended."
    )


def console_url(resource_arn: str, region: str) -> str | None:
    """The AWS console page of an IAM user, role or group or an S3 bucket, in the ARN's partition."""
    fields = resource_arn.split(":", 5)
    if len(fields) != 6 or fields[0] != "arn":
        return None
    partition, service, resource = fields[1], fields[2], fields[5]
    if service == "iam":
        kind, _, rest = resource.partition("/")
        name = rest.rpartition("/")[2]
        if kind in ("user", "role", "group") and name and partition in _CONSOLES:
            return f"{_CONSOLES[partition]}/iam/home#/{kind}s/details/{quote(name, safe='')}"
        return None
    bucket = bucket_of_arn(resource_arn)
    if service == "s3" and bucket and partition in _S3_CONSOLES:
        return f"{_S3_CONSOLES[partition]}/s3/buckets/{quote(bucket, safe='')}?region={quote(region, safe='')}"
    return None


def describe_resource(resource_arn: str) -> str:
    """``role app-backend``, ``bucket acme-media``, an account's Block Public Access, or the ARN itself."""
    fields = resource_arn.split(":", 5)
    if len(fields) == 6 and fields[2] == "iam":
        kind, _, rest = fields[5].partition("/")
        if kind in ("user", "role", "group") and rest:
            return f"{kind} {rest.rpartition('/')[2]}"
    bucket = bucket_of_arn(resource_arn)
    if bucket is not None:
        return f"bucket {bucket}"
    if len(fields) == 6 and fields[2] == "s3" and fields[4] and fields[5] == "public-access-block":
        return f"the Block Public Access settings of account {fields[4]}"
    return resource_arn


def describe_actor(actor: Actor) -> str:
    """How the call was made: ``with the AWS CLI, without MFA, from 198.51.100.7``."""
    parts = [_CHANNELS.get(actor.channel, f"with {actor.channel}")]
    if actor.type != "AWSService":
        parts.append("with MFA" if actor.mfa_authenticated else "without MFA")
    if actor.source_ip:
        parts.append(f"from {actor.source_ip}")
    return ", ".join(parts)


def build_message(
    notification: Notification,
    *,
    account_alias: str | None = None,
    owner: Owner | None = None,
    owner_routed: bool = False,
    account: str | None = None,
) -> AlertMessage:
    """The alert for ``notification``.

    ``owner`` is the team resolved from tags (None: unknown); ``owner_routed``
    says whether that team has destinations of its own. ``account`` names the
    account of a configuration error that no event belongs to.
    """
    if notification.outcome is Outcome.REJECTED and notification.change is not None:
        return _rejection_message(notification, notification.change)
    if notification.outcome is Outcome.CIRCUIT_BREAKER_TRIPPED:
        return _breaker_message(notification, account)
    if notification.outcome is Outcome.CONFIGURATION_ERROR or notification.finding is None:
        return _configuration_message(notification, account)
    return _finding_message(notification, notification.finding, account_alias, owner, owner_routed)


def _finding_message(
    notification: Notification,
    finding: Finding,
    account_alias: str | None,
    owner: Owner | None,
    owner_routed: bool,
) -> AlertMessage:
    outcome = notification.outcome
    change = notification.change
    spec = RULES.get(finding.rule_id)
    rule_title = spec.title if spec else finding.rule_id
    resource = describe_resource(finding.resource_arn)
    link = console_url(finding.resource_arn, finding.region)
    remediation_id = notification.remediation_id
    if remediation_id is None and outcome in (Outcome.REMEDIATED, Outcome.REMEDIATION_FAILED):
        remediation_id = f"rem-{finding.finding_id}"
    prefix = notification.settings_prefix.rstrip("/")
    label = "Break-glass change" if outcome is Outcome.NOTEWORTHY and finding.alert_only else _OUTCOME_LABELS[outcome]
    title = f"{label}: {rule_title} ({resource})"

    account_text = f"{finding.account} ({account_alias})" if account_alias else finding.account
    actor = finding.actor
    facts = [
        Fact("When", change.time if change and change.time else "unknown"),
        Fact("Who", code(actor.display)),
        Fact("How", describe_actor(actor)),
        Fact("Account", account_text),
        Fact("Region", finding.region),
        Fact("Resource", resource, link=link, literal=finding.resource_arn),
        Fact("Rule", f"{rule_title}, {finding.severity.value}, mode {finding.mode.value}", literal=finding.rule_id),
        Fact("Owner", _owner_text(owner, owner_routed)),
    ]

    actions = notification.actions or tuple(step.summary for step in finding.plan if step.summary)
    sections = [Section("Why it is risky", (risk_of(finding.rule_id),))]
    reported = bool(notification.actions)
    sections.extend(_what_we_did(outcome, finding, actions, notification.error, reported=reported))
    sections.append(Section("How to undo it", _undo(outcome, finding, remediation_id, notification.undoable)))
    if outcome is not Outcome.NOTEWORTHY:
        sections.append(Section("How to ask for an exception", _exception(finding, prefix)))

    audit = [Fact("CloudTrail event", finding.event_id), Fact("Finding", finding.finding_id)]
    if remediation_id:
        audit.append(Fact("Remediation", remediation_id))

    details = _details(finding)
    undo_command = f"iamwarden undo {remediation_id}" if remediation_id and notification.undoable else None
    record: dict[str, Any] = {
        "schema": SCHEMA,
        "outcome": outcome.value,
        "severity": finding.severity.value,
        "rule": finding.rule_id,
        "rule_title": rule_title,
        "title": title,
        "summary": finding.reason,
        "why": risk_of(finding.rule_id),
        "account": finding.account,
        "account_alias": account_alias,
        "region": finding.region,
        "resource": {"arn": finding.resource_arn, "name": resource, "console_url": link},
        "event": {
            "id": finding.event_id,
            "name": finding.event_name,
            "time": change.time if change else None,
        },
        "actor": {
            "arn": actor.arn,
            "principal_arn": actor.principal_arn,
            "type": actor.type,
            "channel": actor.channel,
            "source_ip": actor.source_ip,
            "mfa_authenticated": actor.mfa_authenticated,
            "user_agent": actor.user_agent,
        },
        "owner": {"team": owner.team, "source": owner.source, "routed": owner_routed} if owner else None,
        "mode": finding.mode.value,
        "alert_only": finding.alert_only,
        "certain": finding.certain,
        "needs_context": list(finding.needs_context),
        "actions": list(actions),
        "error": notification.error,
        "remediation_id": remediation_id,
        "undo": {"possible": undo_command is not None, "command": undo_command},
        "exception": {
            "resource_parameter": f"{prefix}/rules/{finding.rule_id}/allow_resources",
            "resource_value": finding.resource_arn,
            "actor_parameter": f"{prefix}/rules/{finding.rule_id}/allow_actors",
            "actor_value": actor.principal_arn,
        },
        "finding": finding.to_dict(),
    }
    return AlertMessage(
        outcome=outcome,
        severity=finding.severity,
        rule_id=finding.rule_id,
        account=finding.account,
        title=title,
        summary=finding.reason,
        facts=tuple(facts),
        sections=tuple(sections),
        details=details,
        audit=tuple(audit),
        record=record,
    )


def _owner_text(owner: Owner | None, routed: bool) -> str:
    if owner is None:
        return "unknown: no owner tag on the resource or the caller, so only the security team has this alert"
    if routed:
        return f"{owner.team} (from {owner.source})"
    return f"{owner.team} (from {owner.source}); this team has no alert destination, so only the security team has it"


def _what_we_did(
    outcome: Outcome, finding: Finding, actions: tuple[str, ...], error: str | None, *, reported: bool
) -> list[Section]:
    """``reported``: the actions are the enforcer's own lines (past tense), not the plan's summaries. A user
    quarantine's earlier role sessions (only read, never changed) get their own last section: however long, they never
    push what was done, or an attempt's verdict, out of a channel's per-section cut (review3 R3)."""
    sessions = shown_block(actions)  # one block, never both: the latest, unless it names fewer roles and is incomplete
    if not sessions or outcome not in (Outcome.REMEDIATED, Outcome.REMEDIATION_FAILED):
        return _what_we_changed(outcome, finding, actions, error, reported=reported)
    own = tuple(line for line in actions if not line.startswith(EARLIER_SESSIONS))
    return [
        *_what_we_changed(outcome, finding, own, error, reported=reported),
        *_sessions_sections(sessions),
    ]


#: What one section of the earlier-sessions block holds at most, in characters once escaped: below Slack's 3,000 per
#: section (the tightest channel's cut), so no role line or its command is cut away (review s15 F3).
SESSIONS_SECTION_CHARS = 2_700


def _sessions_sections(lines: list[str]) -> list[Section]:
    """The block in as many sections as its lines need, in order (what was not seen comes first): a line is never
    split, and one longer than a section alone gets a section of its own."""
    heading = "Earlier role sessions of the quarantined user (listed, not revoked)"
    chunks: list[list[str]] = [[]]
    size = 0
    for line in lines:
        cost = len(line) + 4 * sum(line.count(mark) for mark in "&<>") + 3  # escaped, bullet and newline
        if chunks[-1] and size + cost > SESSIONS_SECTION_CHARS:
            chunks.append([])
            size = 0
        chunks[-1].append(line)
        size += cost
    return [
        Section(heading if index == 0 else f"{heading}, continued", tuple(chunk), True)
        for index, chunk in enumerate(chunks)
    ]


def _what_we_changed(
    outcome: Outcome, finding: Finding, actions: tuple[str, ...], error: str | None, *, reported: bool
) -> list[Section]:
    if outcome is Outcome.REMEDIATED:
        if not actions:
            return [Section("What IAM Warden did", ("The live state was already safe; nothing to change.",))]
        heading = "What IAM Warden did" if reported else "What IAM Warden did (its remediation plan)"
        return [Section(heading, actions, True)]
    if outcome is Outcome.REMEDIATION_FAILED:
        sections = [Section("What IAM Warden tried", actions or ("The remediation plan.",), True)]
        sections.append(
            Section(
                "What went wrong",
                (
                    error or "The remediation failed; the audit record says which steps ran.",
                    "The risky change may still be in place: check the resource now.",
                ),
            )
        )
        return sections
    if outcome is Outcome.NOTEWORTHY:
        if finding.alert_only:
            reason = (
                "Nothing. Changes made by break-glass principals are alerted on and never remediated. "
                "Check that this change was part of an incident, and revert it when the incident is over."
            )
        else:
            reason = "Nothing. This change is reported for your information."
        return [Section("What IAM Warden did", (reason,))]
    # Alerted: nothing changed; say what remediate mode would do.
    if error:  # held back although the rule is in remediate mode (the kill switch or the circuit breaker)
        lead = f"Nothing was changed: {error}."
    elif finding.needs_context and finding.mode is Mode.REMEDIATE:
        lead = (
            "Nothing was changed: IAM Warden never remediates on a guess, and it could not know "
            f"{'; '.join(finding.needs_context)}. Check those facts, then fix the change by hand if they confirm it."
        )
    elif finding.mode is Mode.ALERT:
        lead = f"Nothing was changed: rule {code(finding.rule_id)} is in alert mode."
    else:
        lead = "Nothing was changed: this finding is alerted only."
    sections = [Section("What IAM Warden did", (lead,))]
    if actions:
        sections.append(Section("What IAM Warden would do in remediate mode", actions, True))
    return sections


def _undo(outcome: Outcome, finding: Finding, remediation_id: str | None, undoable: bool) -> tuple[str, ...]:
    if outcome in (Outcome.ALERTED, Outcome.NOTEWORTHY):
        return ("Nothing to undo: IAM Warden changed nothing.",)
    if not undoable:
        if finding.rule_id == "iam-user-created":
            return (
                "This cannot be undone: the user was deleted, and a deleted IAM user cannot be restored. "
                "If the user was needed, create it again by hand and ask for an exception first.",
            )
        return ("This remediation cannot be undone.",)
    command = code(f"iamwarden undo {remediation_id}")
    if outcome is Outcome.REMEDIATION_FAILED:
        return (f"Run {command} to put back whatever part of the plan did run.",)
    return (f"Run {command} to put back exactly what IAM Warden changed.",)


def _exception(finding: Finding, prefix: str) -> tuple[str, ...]:
    rule = finding.rule_id
    lines = [
        f"If this change is intended, the security team can exempt the resource: add "
        f"{code(finding.resource_arn)} to the SSM parameter {code(f'{prefix}/rules/{rule}/allow_resources')}."
    ]
    if finding.actor.principal_arn:
        lines.append(
            f"To exempt the caller instead, add {code(finding.actor.principal_arn)} to "
            f"{code(f'{prefix}/rules/{rule}/allow_actors')}."
        )
    policies = [str(item["policy_arn"]) for item in finding.offending if isinstance(item.get("policy_arn"), str)]
    if rule == "managed-policy-attached" and policies:
        name = policies[0].split(":policy/", 1)[-1]
        lines.append(
            f"To allow this policy everywhere, add {code(name)} to {code(f'{prefix}/rules/{rule}/allow_policies')}."
        )
    return tuple(lines)


def _details(finding: Finding) -> Details | None:
    statements = [item for item in finding.offending if "statement" in item]
    if statements:
        parts = []
        for item in statements:
            sid = item.get("sid")
            label = f"statement {item.get('index')}" + (f" ({sid})" if sid else "")
            parts.append(f"// {label}\n{json.dumps(item['statement'], indent=2, sort_keys=True)}")
        heading = "Offending statement" if len(statements) == 1 else "Offending statements"
        return Details(heading, "\n".join(parts))
    policies = [str(item["policy_arn"]) for item in finding.offending if isinstance(item.get("policy_arn"), str)]
    if policies:
        return Details("Policy attached" if len(policies) == 1 else "Policies attached", "\n".join(policies))
    if finding.offending:
        return Details("Details", json.dumps([dict(item) for item in finding.offending], indent=2, sort_keys=True))
    return None


def _configuration_message(notification: Notification, account: str | None) -> AlertMessage:
    prefix = notification.settings_prefix.rstrip("/")
    problems = notification.problems
    count = len(problems)
    noun = "setting is" if count == 1 else "settings are"
    title = f"Configuration error: {count} invalid {'setting' if count == 1 else 'settings'}"
    summary = (
        f"{count} {noun} invalid under {code(prefix)} in SSM Parameter Store, so IAM Warden is not running "
        "exactly as configured."
        if count
        else notification.error or "IAM Warden could not read its settings."
    )
    rules = sorted({problem.key.split("/")[1] for problem in problems if problem.key.startswith("rules/")} & set(RULES))
    sections = [
        Section(
            "What IAM Warden does meanwhile",
            (
                "A rule with an invalid setting runs in alert mode until the setting is fixed; "
                "an invalid global or alert setting takes its default. Every other setting is used as given.",
                *([f"Rules now in alert mode: {', '.join(code(rule) for rule in rules)}."] if rules else []),
            ),
        ),
        Section(
            "How to fix it",
            (
                "Correct each parameter named below in SSM Parameter Store, for example "
                f"{code(f'aws ssm put-parameter --overwrite --name {_parameter(prefix, problems)} --value …')}. "
                "IAM Warden picks up the change within minutes; this alert repeats until then.",
            ),
        ),
    ]
    if notification.error and count:
        sections.append(Section("Error", (notification.error,)))
    details = (
        Details(
            "Invalid settings",
            "\n".join(f"{prefix}/{problem.key}: {problem.message}" for problem in problems),
        )
        if problems
        else None
    )
    change = notification.change
    audit = (Fact("CloudTrail event", change.event_id),) if change else ()
    where = account or (change.account if change else None) or "unknown"
    record: dict[str, Any] = {
        "schema": SCHEMA,
        "outcome": Outcome.CONFIGURATION_ERROR.value,
        "severity": CONFIGURATION_SEVERITY.value,
        "rule": CONFIGURATION_RULE,
        "title": title,
        "summary": summary,
        "account": where,
        "settings_prefix": prefix,
        "problems": [_problem_dict(prefix, problem) for problem in problems],
        "rules_in_alert_mode": rules,
        "error": notification.error,
        "event": {"id": change.event_id, "name": change.event_name, "time": change.time} if change else None,
    }
    return AlertMessage(
        outcome=Outcome.CONFIGURATION_ERROR,
        severity=CONFIGURATION_SEVERITY,
        rule_id=CONFIGURATION_RULE,
        account=where,
        title=title,
        summary=summary,
        facts=(Fact("Account", where), Fact("Settings", f"{prefix}/ in SSM Parameter Store")),
        sections=tuple(sections),
        details=details,
        audit=audit,
        record=record,
    )


def _rejection_message(notification: Notification, change: CloudTrailChange) -> AlertMessage:
    """A security alert: an event named an account other than its own, a time to come or no time, so nothing was
    done."""
    if FROM_THE_FUTURE in (notification.error or ""):
        title = f"Event rejected: {change.event_name} is dated {change.time}, in the future"
        summary = (
            f"IAM Warden rejected CloudTrail event {code(change.event_id)} ({code(change.event_name)}) and changed "
            "nothing: its time is after IAM Warden's clock, which no CloudTrail record can be."
        )
        check = (
            "Who invoked the enforcer directly (CloudTrail Lambda data events, lambda:InvokeFunction) or can put "
            'events on IAM Warden\'s event bus: a forged event is how someone would plant a false "last seen" state.'
        )
    elif UNREADABLE_TIME in (notification.error or ""):
        title = f"Event rejected: {change.event_name} is dated {change.time!r}, which is no time"
        summary = (
            f"IAM Warden rejected CloudTrail event {code(change.event_id)} ({code(change.event_name)}) and changed "
            "nothing: its time does not read as a time, and every CloudTrail record has one."
        )
        check = (
            "Who invoked the enforcer directly (CloudTrail Lambda data events, lambda:InvokeFunction) or can put "
            "events on IAM Warden's event bus: a forged event is how someone would plant a false state."
        )
    else:
        title = f"Event rejected: {change.event_name} claims account {change.account} about another account"
        summary = (
            f"IAM Warden rejected CloudTrail event {code(change.event_id)} ({code(change.event_name)}) and changed "
            "nothing: the account it came from and the account of what it would act on disagree."
        )
        check = (
            f"Who can put events on IAM Warden's event bus or invoke the enforcer, and whether account "
            f"{code(change.account)} forwards events it did not produce. A genuine CloudTrail event always "
            "names one account throughout."
        )
    sections = (
        Section("Why", (notification.error or "the event names another account than its own",)),
        Section("What to check", (check,)),
    )
    audit = (Fact("CloudTrail event", change.event_id),) + (
        (Fact("Record", notification.remediation_id),) if notification.remediation_id else ()
    )
    record: dict[str, Any] = {
        "schema": SCHEMA,
        "outcome": Outcome.REJECTED.value,
        "severity": REJECTION_SEVERITY.value,
        "rule": REJECTION_RULE,
        "title": title,
        "summary": summary,
        "account": change.account,
        "region": change.region,
        "reason": notification.error,
        "actor": change.actor.arn,
        "event": {"id": change.event_id, "name": change.event_name, "time": change.time},
        "remediation_id": notification.remediation_id,
    }
    return AlertMessage(
        outcome=Outcome.REJECTED,
        severity=REJECTION_SEVERITY,
        rule_id=REJECTION_RULE,
        account=change.account,
        title=title,
        summary=summary,
        facts=(
            Fact("Claimed account", change.account),
            Fact("Region", change.region),
            Fact("Caller", change.actor.display),
        ),
        sections=sections,
        details=None,
        audit=audit,
        record=record,
    )


def _parameter(prefix: str, problems: tuple[SettingsProblem, ...]) -> str:
    return f"{prefix}/{problems[0].key}" if problems else f"{prefix}/…"


def _problem_dict(prefix: str, problem: SettingsProblem) -> dict[str, str]:
    return {"key": problem.key, "parameter": f"{prefix}/{problem.key}", "message": problem.message}


def _breaker_message(notification: Notification, account: str | None) -> AlertMessage:
    """A critical alert, sent once: the enforcer stopped remediating and waits for an operator."""
    prefix = notification.settings_prefix.rstrip("/")
    change = notification.change
    where = (change.account if change else None) or account or "unknown"
    reason = notification.error or "the circuit breaker tripped"
    title = "Circuit breaker tripped: IAM Warden is alert-only until an operator resets it"
    summary = (
        f"IAM Warden stopped remediating: {reason}. Every rule now alerts instead of remediating, in every account, "
        "until someone who has looked at the burst resets the breaker."
    )
    switch = kill_switch_name(prefix)
    sections = (
        Section(
            "What IAM Warden does meanwhile",
            (
                f"The kill switch {code(switch)} is set to {code('off')}: findings are recorded and alerted with what "
                "remediate mode would do, and nothing is changed.",
            ),
        ),
        Section(
            "What to check",
            (
                "The remediations of the last minutes (`iamwarden history` for each resource, or the audit table): "
                "a burst of genuine attacks, or a rule or setting that reverts good changes.",
            ),
        ),
        Section(
            "How to resume",
            (
                f"Run {code('iamwarden breaker reset')}, or "
                f"{code(f'aws ssm put-parameter --overwrite --name {switch} --value on')}. Only remediations after "
                "that count towards the breaker again.",
            ),
        ),
    )
    audit = ((Fact("CloudTrail event", change.event_id),) if change else ()) + (
        (Fact("Record", notification.remediation_id),) if notification.remediation_id else ()
    )
    record: dict[str, Any] = {
        "schema": SCHEMA,
        "outcome": Outcome.CIRCUIT_BREAKER_TRIPPED.value,
        "severity": BREAKER_SEVERITY.value,
        "rule": BREAKER_RULE,
        "title": title,
        "summary": summary,
        "account": where,
        "reason": reason,
        "kill_switch": switch,
        "event": {"id": change.event_id, "name": change.event_name, "time": change.time} if change else None,
        "remediation_id": notification.remediation_id,
    }
    return AlertMessage(
        outcome=Outcome.CIRCUIT_BREAKER_TRIPPED,
        severity=BREAKER_SEVERITY,
        rule_id=BREAKER_RULE,
        account=where,
        title=title,
        summary=summary,
        facts=(Fact("Account", where), Fact("Kill switch", switch)),
        sections=sections,
        details=None,
        audit=audit,
        record=record,
    )
