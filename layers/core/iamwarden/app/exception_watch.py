"""The exceptions' clock (``ExceptionWatch``, hourly): remind owners before an exception expires, and at expiry
mark it expired and judge the resource's current state again, alerting what is found. Never silently kept.
An approved item the desk could not have approved (``approval_flaw``: written into the table some other way), or
one whose approval the desk never recorded in the audit table (``DeskApprovals``: written in directly, so never
announced), is revoked at once and alerted as critical; the enforcer never honoured it.

"Judging again" needs the current state, which no event carries. For the rules whose resource can be re-read
here, the watch reads it and builds the CloudTrail records that would have put it there (a bucket's policy as
``PutBucketPolicy``; a principal's inline and attached policies as ``Put*Policy`` / ``Attach*Policy``), then
judges them exactly as the enforcer would, with the exception gone. Where it cannot (another kind of resource,
a pattern that names many resources, a resource it cannot read), it alerts that the exception expired and that
the resource needs a review, with ``needs_context`` saying why: never a guess. The watch only alerts; the
enforcer remediates the next change, as it does any change.
"""

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from iamwarden.adapters.errors import error_code
from iamwarden.adapters.exception_store import DeskApprovals, lifecycle_record_id
from iamwarden.alerts.notifications import Notification, Notifier
from iamwarden.app.exception_desk import ExceptionDesk
from iamwarden.domain.catalog import Severity
from iamwarden.domain.events import Actor
from iamwarden.domain.findings import Finding, Outcome, Verdict
from iamwarden.domain.managed_documents import ManagedPolicyDocuments
from iamwarden.domain.principals import RoleDirectory
from iamwarden.domain.rule_exceptions import ExceptionStatus, RuleException, approval_flaw, expired, reminder_due
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.base import LiveClients
from iamwarden.guardrails.engine import judge_event
from iamwarden.guardrails.remediation import AccountClients

#: Who "made" the re-read state, as the alerts show it.
WATCH_ACTOR = Actor.of_iamwarden("IAMWardenExceptionWatch", "iamwarden-exception-watch")
BUCKET_RULES = frozenset({"s3-bucket-policy-public", "s3-bucket-policy-cross-account"})
IDENTITY_RULES = frozenset({"inline-policy-admin", "privilege-escalation", "managed-policy-attached"})
_PRINCIPALS = {"role": "Role", "user": "User", "group": "Group"}


class CannotReread(Exception):
    """The current state of an exception's resource cannot be read here; the message says why."""


class WatchReport(NamedTuple):
    reminded: tuple[str, ...]
    expired: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"reminded": list(self.reminded), "expired": list(self.expired)}


class ExceptionWatch:
    def __init__(
        self,
        desk: ExceptionDesk,
        notifier: Notifier,
        settings: Callable[[], Settings],
        live_clients: LiveClients,
        *,
        home_account: str,
        region: str,
        documents: ManagedPolicyDocuments | None = None,
        directory: RoleDirectory | None = None,
        settings_prefix: str = "/iamwarden",
    ) -> None:
        self.desk = desk
        #: Which approved items the desk approved (its audit records); any other was written in directly.
        self.approvals = DeskApprovals(desk.audit)
        self.notifier = notifier
        self._settings = settings
        self.live_clients = live_clients
        self.home_account = home_account
        self.region = region
        self.documents = documents
        self.directory = directory
        self.settings_prefix = settings_prefix

    def run(self) -> WatchReport:
        """One pass over the approved exceptions: expire those whose time is up, remind those expiring soon."""
        now = self.desk.clock()
        settings = self._settings()
        approved = self.desk.store.with_status(ExceptionStatus.APPROVED)
        reminded: list[str] = []
        ended: list[str] = []
        operators = settings.rule("iamwarden-tampered").patterns("operators")
        for exception in approved:
            flaw = approval_flaw(exception, settings.exceptions, operators)
            if flaw is None and not self.approvals.recorded(exception):
                flaw = (
                    "IAM Warden's desk recorded no approval of it (no audit record "
                    f"{lifecycle_record_id(exception.exception_id, 'approved')} naming {exception.approver} as its "
                    "approver), so it never went through iamwarden exception approve or Slack and was never announced"
                )
            if flaw is not None:
                if self.desk.revoke_unapproved(exception) is not None:  # another run revoked it first: it alerted
                    ended.append(exception.exception_id)
                    self._alert_forged(exception, flaw)
            elif expired(exception, now):
                done = self.desk.expire(exception)
                if done is not None:  # another run expired it first: it alerted already
                    ended.append(done.exception_id)
                    still = [e for e in approved if e.exception_id != exception.exception_id]
                    self._judge_again(done, settings, still, now)
            elif reminder_due(exception, now, settings.exceptions) and self.desk.mark_reminded(exception):
                reminded.append(exception.exception_id)
                self._remind(exception)
        return WatchReport(tuple(reminded), tuple(ended))

    def _alert_forged(self, exception: RuleException, flaw: str) -> None:
        """Alert, as critical, an approved item the desk could not have approved (now revoked)."""
        reason = (
            f"{exception.describe()} is marked approved in the exceptions table, but IAM Warden could not have "
            f"approved it: {flaw}. It was written into the table some other way, so IAM Warden never honoured it "
            "and has revoked it. Find who wrote it (the table's writers, CloudTrail data events) and review what "
            f"its scope names."
        )
        finding = self._finding(exception, f"{exception.exception_id}-forged", reason)
        self._notify(Outcome.ALERTED, finding._replace(severity=Severity.CRITICAL))

    def _remind(self, exception: RuleException) -> None:
        expires = exception.expires_at.isoformat() if exception.expires_at else "?"
        reason = (
            f"{exception.describe()} expires at {expires}. When it expires, IAM Warden judges the resource again "
            f"and alerts what it finds. If it is still needed, ask for a new one: iamwarden exception request "
            f"--rule {exception.scope.rule_id} "
            f"{'--resource' if exception.scope.resource_pattern else '--actor'} {exception.scope.pattern} "
            f"{'--literal ' if exception.scope.literal else ''}"
            "--reason '...'"
        )
        self._notify(Outcome.NOTEWORTHY, self._finding(exception, f"{exception.exception_id}-reminder", reason))

    def _judge_again(
        self, exception: RuleException, settings: Settings, others: Sequence[RuleException], now: datetime
    ) -> None:
        scope = exception.scope
        lead = f"{exception.describe()} expired"
        if scope.resource_pattern is None:
            reason = (
                f"{lead}: changes by {scope.actor_pattern} are judged by rule {scope.rule_id} again from now on, "
                "like anyone's. Review what they changed while it held (iamwarden history)."
            )
            self._notify(Outcome.NOTEWORTHY, self._finding(exception, f"{exception.exception_id}-expired", reason))
            return
        try:
            events = self.current_state(exception, now)
        except CannotReread as why:
            reason = f"{lead}; IAM Warden cannot re-read this kind of resource, review it: {why}."
            finding = self._finding(exception, f"{exception.exception_id}-expired", reason)
            self._notify(Outcome.ALERTED, finding._replace(needs_context=(f"the current state: {why}",)))
            return
        findings: list[Finding] = []
        for event in events:
            judgement = judge_event(
                event,
                settings,
                self.documents,
                self.directory,
                live_clients=self.live_clients,
                exceptions=others,
                now=now,
            )
            if judgement.verdict is Verdict.VIOLATION:
                findings.extend(f for f in judgement.findings if f.rule_id == scope.rule_id)
        if not findings:
            reason = f"{lead}; its current state was judged again by rule {scope.rule_id}: compliant."
            self._notify(Outcome.NOTEWORTHY, self._finding(exception, f"{exception.exception_id}-expired", reason))
            return
        for finding in findings:
            reason = f"{lead}; its current state was judged again: {finding.reason} Fix it, or ask for a new exception."
            self._notify(Outcome.ALERTED, finding._replace(reason=reason))

    def current_state(self, exception: RuleException, now: datetime) -> list[dict[str, Any]]:
        """CloudTrail records (EventBridge envelopes) that would put the resource's current state in place."""
        scope = exception.scope
        arn = scope.resource_pattern or ""
        if not scope.literal and ("*" in arn or "?" in arn):
            raise CannotReread(f"{arn} names many resources, which IAM Warden does not list")
        fields = arn.split(":", 5)
        if len(fields) != 6:
            raise CannotReread(f"{arn} is not an ARN")
        account = fields[4] or self.home_account
        region = fields[3] or self.region
        aws = self.live_clients(account, region)
        try:
            if scope.rule_id in BUCKET_RULES and fields[2] == "s3" and "/" not in fields[5]:
                return _bucket_events(aws, fields[5], account, region, now)
            kind, _, name = fields[5].partition("/")
            if scope.rule_id in IDENTITY_RULES and fields[2] == "iam" and kind in _PRINCIPALS and name:
                return _principal_events(aws, _PRINCIPALS[kind], name.rpartition("/")[2], account, now)
        except CannotReread:
            raise
        except Exception as exc:  # an AWS error is a reason to review by hand, said as such
            raise CannotReread(f"reading {arn} failed ({type(exc).__name__}: {exc})") from exc
        raise CannotReread(f"rule {scope.rule_id} has no re-reader for {arn}")

    def _finding(self, exception: RuleException, event_id: str, reason: str) -> Finding:
        settings = self._settings()
        arn = exception.scope.pattern
        fields = arn.split(":", 5)
        return Finding(
            rule_id=exception.scope.rule_id,
            severity=Severity.MEDIUM,
            resource_arn=arn,
            account=(fields[4] if len(fields) == 6 else "") or self.home_account,
            region=(fields[3] if len(fields) == 6 else "") or self.region,
            actor=WATCH_ACTOR,
            event_id=event_id,
            event_name="ExceptionExpiry",
            reason=reason,
            mode=settings.rule(exception.scope.rule_id).mode,
        )

    def _notify(self, outcome: Outcome, finding: Finding) -> None:
        self.notifier.notify(Notification(outcome, finding, settings_prefix=self.settings_prefix))


def _envelope(source: str, account: str, region: str, now: datetime, detail: Mapping[str, Any]) -> dict[str, Any]:
    time = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "version": "0",
        "id": f"exception-watch-{detail['eventID']}",
        "detail-type": "AWS API Call via CloudTrail",
        "source": f"aws.{source}",
        "account": account,
        "time": time,
        "region": region,
        "resources": [],
        "detail": {
            "eventVersion": "1.09",
            "userIdentity": {"type": WATCH_ACTOR.type, "principalId": WATCH_ACTOR.principal_id},
            "eventTime": time,
            "eventSource": f"{source}.amazonaws.com",
            "awsRegion": region,
            "readOnly": False,
            "eventType": "AwsApiCall",
            "recipientAccountId": account,
            **detail,
        },
    }


def _bucket_events(aws: AccountClients, bucket: str, account: str, region: str, now: datetime) -> list[dict[str, Any]]:
    try:
        policy = aws.s3.get_bucket_policy(Bucket=bucket)["Policy"]
    except Exception as exc:
        if error_code(exc) == "NoSuchBucketPolicy":
            return []  # no policy: nothing for a bucket-policy rule to find
        raise
    detail = {
        "eventName": "PutBucketPolicy",
        "eventID": f"{bucket}-{int(now.timestamp())}",
        "requestParameters": {"bucketName": bucket, "bucketPolicy": json.loads(policy)},
        "responseElements": None,
        "resources": [{"type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}", "accountId": account}],
    }
    return [_envelope("s3", account, region, now, detail)]


def _principal_events(aws: AccountClients, kind: str, name: str, account: str, now: datetime) -> list[dict[str, Any]]:
    """``Put<Kind>Policy`` for each inline policy and ``Attach<Kind>Policy`` for each attached one."""
    iam = aws.iam
    key = f"{kind.lower()}Name"
    events: list[dict[str, Any]] = []
    for page in iam.get_paginator(f"list_{kind.lower()}_policies").paginate(**{kind + "Name": name}):
        for policy_name in page.get("PolicyNames", []):
            document = getattr(iam, f"get_{kind.lower()}_policy")(**{kind + "Name": name, "PolicyName": policy_name})
            events.append(
                _iam_event(
                    f"Put{kind}Policy",
                    {
                        key: name,
                        "policyName": policy_name,
                        "policyDocument": _document_text(document["PolicyDocument"]),
                    },
                    account,
                    now,
                    len(events),
                )
            )
    for page in iam.get_paginator(f"list_attached_{kind.lower()}_policies").paginate(**{kind + "Name": name}):
        for attached in page.get("AttachedPolicies", []):
            events.append(
                _iam_event(
                    f"Attach{kind}Policy", {key: name, "policyArn": attached["PolicyArn"]}, account, now, len(events)
                )
            )
    return events


def _iam_event(name: str, request: Mapping[str, Any], account: str, now: datetime, index: int) -> dict[str, Any]:
    detail = {
        "eventName": name,
        "eventID": f"{name}-{index}-{int(now.timestamp())}",
        "requestParameters": dict(request),
        "responseElements": None,
    }
    return _envelope("iam", account, "us-east-1", now, detail)


def _document_text(document: Any) -> str:
    """boto3 decodes IAM's URL-encoded policy document into a dict; CloudTrail carries it as JSON text."""
    return document if isinstance(document, str) else json.dumps(document)
