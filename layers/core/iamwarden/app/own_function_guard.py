"""The heartbeat's hand on IAM Warden's own functions (issue 15 item 2): what it finds there, it also puts right.

The enforcer judges each change to an own function from its CloudTrail event; the heartbeat reads the functions
themselves every run, so it also sees what no event brought (a lost event, a rule re-patterned first). What it
finds it does not only alert:

* **code its stack did not deploy** (``CodeSha256`` unlike the ``OWN_CODE`` record): the function is stopped
  (``stop_function``: reserved concurrency 0; the code stays for the investigation; undo puts the concurrency back),
  since what it runs may be anyone's, with its role: the pruner's writes IAM in every member account, the Slack
  endpoint's invokes the enforcer. Only once the difference is certain to be no deploy of its own: the new code of a
  normal deploy is live minutes before CloudFormation's ``UpdateFunctionCode`` reaches the enforcer, which records
  it, sometimes long after. So it is decided by the stack's own state, never by when an event arrives: the function
  is stopped only when the own stack is in no operation, its last operation did not put this code there
  (``stack_deployed_it``: the function's last modification falls within that operation, which updated its
  resource, and the heartbeat had not seen this code before it; such code is alerted, never stopped), and the
  heartbeat first saw this code more than ``CODE_GRACE`` ago (``OWN_CODE_SEEN`` in the audit table); until then it
  is alerted, saying when it will be stopped if still unexplained. A stop is never lifted here, even once the code
  is the stack's again: the code hash alone does not say the function runs IAM Warden (its handler, environment or
  layers may not), so an operator lifts it with ``iamwarden undo`` (review s10 F1/F2). Not the enforcer:
  stopping it would blind IAM Warden (no event judged, nothing remediated, the alerts about everything else gone
  with it), so its change is alerted only, by the heartbeat itself. Not the heartbeat itself either: the check runs
  in it, and stopping it would end every check;
* **a statement in an own function's policy its template does not declare** (``declared_permission``, by content):
  removed by its id (``remove_lambda_permission``; undo adds it back as it was);
* **a URL on an own function the template gives none** (``signed_url_functions`` aside): deleted
  (``delete_own_function_url``; undo creates it again as it was).

Each is a finding of ``iamwarden-tampered`` with its plan, carried out by the same executor as the enforcer's: the
before-state recorded first, each step idempotent, every one undoable with ``iamwarden undo``. The finding's id is
made of what was found (the function and the code hash, statement or URL), so a later run finds it done and acts
no more, and an operator's undo stands until something else is found. A URL's undo creates a new one (a new
``CreationTime``): it is known instead by the undone deletion in the audit table whose before-state is the live
URL's configuration, and left alone, said once as operator-approved. Only when ``iamwarden-tampered`` is in
``remediate`` for the security account and the kill switch is on; otherwise the alert says what would be done.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from iamwarden.adapters.audit import AuditStatus
from iamwarden.adapters.errors import error_code, is_gone
from iamwarden.domain.canonical import canonical
from iamwarden.domain.catalog import Mode, Severity
from iamwarden.domain.events import Actor, instant
from iamwarden.domain.findings import Finding, RemediationStep
from iamwarden.domain.own import OwnIdentity
from iamwarden.domain.recorded import OWN_CODE_SEEN, OWN_URL_APPROVED, Snapshot
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.lambda_permissions import RemoveLambdaPermission
from iamwarden.guardrails.tampering import (
    ADD_PERMISSION_ARGUMENTS,
    DeleteOwnFunctionUrl,
    StopFunction,
    declared_permission,
    permission_request,
)

logger = logging.getLogger(__name__)

TAMPERED = "iamwarden-tampered"
#: The heartbeat as the actor of what it finds (no CloudTrail record names who changed it).
HEARTBEAT_ACTOR = Actor.of_iamwarden("IAMWardenHeartbeat", "iamwarden-heartbeat")
#: The functions never stopped for their code: the enforcer (stopping it blinds IAM Warden) and the heartbeat
#: (the check runs in it).
NEVER_STOPPED = frozenset({"enforcer", "heartbeat"})
#: How long code unlike the recorded one is only alerted: CloudTrail delivers an event within about 15 minutes
#: (CloudTrail's own figure), so after twice that a deploy's ``UpdateFunctionCode`` would have been recorded.
CODE_GRACE = timedelta(minutes=30)
#: How far apart two AWS services' clocks may be (Lambda's ``LastModified``, CloudFormation's times): a deploy's
#: window is widened by it, so a legitimate deploy is never taken for foreign code by a second's difference.
CLOCK_SKEW = timedelta(minutes=1)
#: How long after CloudFormation finished with the function its deploy may excuse code unlike the record: the
#: deploy's own event is then late beyond CloudTrail's delivery time, and the code is stopped as any other (review s10
#: F3: the excuse is never for good).
DEPLOY_EXCUSE = CODE_GRACE
#: How much later than CloudFormation's finishing with the function its last modification may be: CloudFormation
#: marks the resource complete only after Lambda's update, so only the services' clocks (NTP-synced) can put it later.
FINISH_SKEW = timedelta(seconds=5)
#: How long an operation of the own stack may make changed code wait: anyone allowed ``UpdateStack`` could keep the
#: stack in progress for hours (a custom resource that never answers, then its rollback); after this the operation
#: explains nothing more than any other (review s10 F9).
IN_PROGRESS_LIMIT = timedelta(hours=2)
#: The resource states in which CloudFormation has finished creating or updating a function.
SETTLED_RESOURCE = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE"})
#: Who the heartbeat's own stops are by (``stop_function``'s parameters), for the audit trail.
STOPPED_BY = "heartbeat"


class DeployRecord(NamedTuple):
    """The ``OWN_CODE`` record: the code hash the stack deployed, when (the event's time) and from what."""

    sha: str | None
    at: datetime | None
    source: str | None

    @classmethod
    def of(cls, data: Mapping[str, Any], taken_at: Any) -> DeployRecord:
        """The record as kept in the audit table (its data and ``taken_at``)."""
        sha, source = data.get("code_sha256"), data.get("source")
        return cls(
            sha if isinstance(sha, str) else None, _instant(taken_at), source if isinstance(source, str) else None
        )

    def from_cloudformation(self) -> bool:
        """Whether CloudFormation's own ``CreateFunction``/``UpdateFunctionCode`` event wrote it (the enforcer)."""
        return str(self.source or "").startswith("CloudFormation's ")


class Executes(NamedTuple):
    """What carries out a plan: ``remediate(finding) -> (record, made)``, the executor's own call."""

    remediate: Callable[[Finding], tuple[Any, bool]]


class OwnFunctionGuard:
    """Finds and puts right, function by function: each answer is the problems to alert, saying what was done."""

    def __init__(
        self,
        own: OwnIdentity,
        lambda_client: Any,
        *,
        partition: str,
        region: str,
        executor: Executes | None = None,
        settings: Callable[[], Settings] | None = None,
        cloudformation: Any = None,
        stack: str | None = None,
        recorded: Any = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.own = own
        self.lambda_client = lambda_client
        self.partition = partition
        self.region = region
        #: None: nothing is acted on (no audit table to record the before-state in), only alerted.
        self.executor = executor
        self.settings = settings
        #: The own stack (``cloudformation:DescribeStacks``) and the audit table's snapshots (when changed code was
        #: first seen): without either, changed code is never stopped, only alerted (it could be a deploy's).
        self.cloudformation = cloudformation
        self.stack = stack
        self.recorded = recorded
        self.clock = clock

    @property
    def account(self) -> str:
        return self.own.home_account or ""

    def arn(self, function: str) -> str:
        return f"arn:{self.partition}:lambda:{self.region}:{self.account}:function:{function}"

    # --- what is found ---------------------------------------------------------------------------------------

    def changed_code(
        self, function: str, sha: str, problem: str, last_modified: Any = None, record: DeployRecord | None = None
    ) -> str:
        """``problem`` (the code hash unlike the deployed one), saying what is done about it; ``last_modified``: the
        function's ``LastModified`` (``GetFunctionConfiguration``), which dates its code against the stack's;
        ``record``: the ``OWN_CODE`` record (a deploy's own event recorded withdraws the deploy's excuse)."""
        kind = self.own.function_roles.get(function)
        if kind in NEVER_STOPPED or kind is None:
            why = (
                "stopping the enforcer would blind IAM Warden: nothing judged, nothing remediated"
                if kind == "enforcer"
                else "the heartbeat does not stop itself: the check runs in it"
                if kind == "heartbeat"
                else "its role is not known, so it is not stopped"
            )
            return f"{problem}; it is not stopped ({why})"
        role = self.own.home_roles.get(kind, "").rsplit("/", 1)[-1]
        step = RemediationStep(
            StopFunction.action,
            self.arn(function),
            # By whom and for what code (the audit trail's; nothing lifts a stop but an operator's undo).
            {"function_name": function, "role": role, "by": STOPPED_BY, "code_sha256": sha},
            f"set the reserved concurrency of IAM Warden's function {function} to 0: it runs code its stack did not "
            "deploy",
        )
        if self.acting() is None:
            waiting = self.not_certain(function, sha, last_modified, record)
            if waiting is not None:
                return f"{problem}; not stopped yet: {waiting}"
        return self._act(f"code/{function}/{sha}", function, [step], problem)

    def permission_problems(self, function: str) -> list[str]:
        """Each statement of ``function``'s policy its template does not declare, removed where it can be."""
        try:
            text = self.lambda_client.get_policy(FunctionName=function).get("Policy")
        except Exception as exc:
            if is_gone(exc):
                return []  # no policy (or no function: the configuration check says it is gone)
            return [f"the policy of IAM Warden's function {function} cannot be read ({error_code(exc) or exc})"]
        statements = json.loads(text or "{}").get("Statement", [])
        problems = []
        where = (self.partition, self.region, self.account)
        for statement in statements if isinstance(statements, list) else [statements]:
            if not isinstance(statement, Mapping):
                continue
            request = permission_request(statement)
            if request is not None and declared_permission(self.own, where, function, request) is not None:
                continue
            sid = str(statement.get("Sid") or "")
            problem = (
                f"IAM Warden's function {function} has a permission its template does not declare (statement {sid}: "
                f"{json.dumps(statement.get('Principal'))} may {statement.get('Action')}): whoever it lets in can "
                "invoke it, and hand the enforcer forged events"
            )
            if request is None or not sid:
                problems.append(f"{problem}; it is not removed here (no AddPermission could put it back on undo)")
                continue
            permission = {
                boto: request[key] for key, boto in ADD_PERMISSION_ARGUMENTS.items() if request.get(key) is not None
            }
            step = RemediationStep(
                RemoveLambdaPermission.action,
                self.arn(function),
                {
                    "resource": self.arn(function),
                    "statements": [{"sid": sid, "match": "sid"}],
                    "permission": permission,
                },
                f"remove the statement {sid} from the policy of IAM Warden's function {function}: its template "
                "declares no such permission",
            )
            digest = hashlib.sha256(canonical(statement).encode()).hexdigest()[:16]
            problems.append(self._act(f"permission/{function}/{sid}/{digest}", function, [step], problem))
        return problems

    def url_problems(self, function: str) -> list[str]:
        """A URL on ``function`` where its template declares none, deleted."""
        if function in self.own.signed_url_functions:
            return []
        try:
            found = self.lambda_client.get_function_url_config(FunctionName=function)
        except Exception as exc:
            if is_gone(exc):
                return []  # no URL: as declared
            return [f"the URL of IAM Warden's function {function} cannot be read ({error_code(exc) or exc})"]
        problem = (
            f"IAM Warden's function {function} has a URL its template does not declare ({found.get('FunctionUrl')}, "
            f"auth type {found.get('AuthType')}): through it anyone it lets in could hand the function forged events"
        )
        approved = self.approved_url(function, found)
        if approved is not None:
            return approved
        step = RemediationStep(
            DeleteOwnFunctionUrl.action,
            self.arn(function),
            {"function_name": function},
            f"delete the URL of IAM Warden's function {function}: its template declares none",
        )
        # Known by when it was made and how (a URL deleted and made again within the clock's resolution, otherwise
        # configured, is another URL).
        config = {key: found[key] for key in ("AuthType", "InvokeMode", "Cors") if found.get(key)}
        digest = hashlib.sha256(canonical(config).encode()).hexdigest()[:16]
        return [self._act(f"url/{function}/{found.get('CreationTime')}/{digest}", function, [step], problem)]

    def not_certain(
        self, function: str, sha: str, last_modified: Any = None, record: DeployRecord | None = None
    ) -> str | None:
        """Why code ``sha`` of ``function`` may still be a deploy's (saying when it will be stopped), or None: it is
        certain to be foreign. Decided by the stack's own state, never by when an event arrived: the stack is in no
        operation, its last one did not put this code there (``stack_deployed_it``), and the heartbeat first saw
        this code more than ``CODE_GRACE`` ago."""
        if self.cloudformation is None or self.stack is None or self.recorded is None:
            return "whether a deploy of the stack changed it cannot be checked here (no stack or audit table)"
        now = self.clock()
        arn = self.arn(function)
        try:
            seen = self.recorded.snapshot(OWN_CODE_SEEN, arn)
            first = _instant(seen.data.get("first_seen")) if seen and seen.data.get("code_sha256") == sha else None
            if first is None:
                first = now
                stamp = now.isoformat(timespec="milliseconds")
                self.recorded.put(Snapshot(OWN_CODE_SEEN, arn, stamp, {"code_sha256": sha, "first_seen": stamp}))
        except Exception as exc:
            return f"when this code was first seen cannot be read or kept ({error_code(exc) or exc})"
        try:
            stacks = self.cloudformation.describe_stacks(StackName=self.stack).get("Stacks", [])
        except Exception as exc:
            return f"the stack {self.stack} cannot be read ({error_code(exc) or exc}): a deploy may have changed it"
        if not stacks:
            return f"the stack {self.stack} is not found: a deploy may have changed it"
        status = str(stacks[0].get("StackStatus", ""))
        began = stacks[0].get("LastUpdatedTime") or stacks[0].get("CreationTime")
        lasting = isinstance(began, datetime) and now - began > IN_PROGRESS_LIMIT
        if status.endswith("_IN_PROGRESS") and not lasting:
            return (
                f"the stack {self.stack} is being deployed ({status}); it is checked again at the next run, and "
                "stopped if the deploy did not put this code there"
            )
        try:
            resource = self.stack_resource(function)
        except Exception as exc:
            return (
                f"the resources of the stack {self.stack} cannot be listed ({error_code(exc) or exc}): whether its "
                "last deploy put this code there is not known"
            )
        deployed = stack_deployed_it(
            self.stack, stacks[0], resource, _instant(last_modified), first, now=now, record=record
        )
        if deployed is not None:
            return deployed
        until = first + CODE_GRACE
        if now < until:
            return (
                f"first seen at {first.astimezone(UTC):%H:%M} UTC, and the stack's last deploy did not put it there; "
                f"it will be stopped at {until.astimezone(UTC):%H:%M} UTC if still unexplained"
            )
        return None

    def stack_resource(self, function: str) -> Mapping[str, Any] | None:
        """The own stack's resource that is function ``function`` (``ListStackResources``), or None: not the stack's."""
        paginator = self.cloudformation.get_paginator("list_stack_resources")
        for page in paginator.paginate(StackName=self.stack):
            for resource in page.get("StackResourceSummaries", []):
                if resource.get("ResourceType") == "AWS::Lambda::Function" and (
                    resource.get("PhysicalResourceId") == function
                ):
                    return dict(resource)
        return None

    def approved_url(self, function: str, found: Mapping[str, Any]) -> list[str] | None:
        """What to say of a URL an operator put back with ``iamwarden undo`` (the undone deletion's before-state is
        the live URL: its re-creation has a new ``CreationTime``, so it is known by its configuration), said once;
        None: no such undo, the URL is judged as any other."""
        if self.recorded is None:
            return None
        arn = self.arn(function)
        live = {key: found[key] for key in ("AuthType", "InvokeMode", "Cors") if found.get(key)}
        try:
            undone = [
                past
                for past in self.recorded.remediations(arn)
                if past.rule == TAMPERED
                and past.status == AuditStatus.UNDONE
                and any(
                    step.get("action") == DeleteOwnFunctionUrl.action
                    and isinstance(before, Mapping)
                    and before.get("url") == live
                    for step, before in zip(past.plan, past.before, strict=False)
                )
            ]
            if not undone:
                return None
            approval = max(undone, key=lambda past: past.created_at).remediation_id
            said = self.recorded.snapshot(OWN_URL_APPROVED, arn)
            if said is not None and said.data.get("remediation_id") == approval:
                return []
            stamp = self.clock().isoformat(timespec="milliseconds")
            self.recorded.put(Snapshot(OWN_URL_APPROVED, arn, stamp, {"remediation_id": approval}))
        except Exception as exc:
            logger.exception(
                "the heartbeat could not read the own function's URL history", extra={"function": function}
            )
            return [
                f"the remediation history of IAM Warden's function {function} cannot be read "
                f"({error_code(exc) or exc}): its URL is not deleted now, in case an operator's undo put it back"
            ]
        return [
            f"IAM Warden's function {function} has a URL its template does not declare ({found.get('FunctionUrl')}, "
            f"auth type {found.get('AuthType')}), put back by an operator's undo of {approval}: it is left as "
            "operator-approved (said once; delete it by hand when it is no longer wanted)"
        ]

    # --- what is done ----------------------------------------------------------------------------------------

    def acting(self) -> str | None:
        """Why nothing is acted on now (the rule's mode, the kill switch, no executor), or None: it is."""
        if self.executor is None:
            return "the heartbeat has no audit table to record what it would change"
        if self.settings is None:
            return "the settings are not known"
        try:
            settings = self.settings().for_account(self.account)
        except Exception as exc:
            return f"the settings cannot be read ({error_code(exc) or exc})"
        if not settings.enforcement:
            return "the kill switch is off"
        if settings.rule(TAMPERED).mode is not Mode.REMEDIATE:
            return f"{TAMPERED} is not in remediate"
        return None

    def _act(self, key: str, function: str, plan: list[RemediationStep], problem: str) -> str:
        """Carry out ``plan`` for what ``key`` names, once; ``problem`` saying what was done (or why not)."""
        summary = "; ".join(step.summary for step in plan)
        held = self.acting()
        if held is not None or self.executor is None:
            return f"{problem}; not done, as {held}: {summary}"
        finding = Finding(
            rule_id=TAMPERED,
            severity=Severity.CRITICAL,
            resource_arn=self.arn(function),
            account=self.account,
            region=self.region,
            actor=HEARTBEAT_ACTOR,
            event_id=f"heartbeat/{key}",
            event_name="Heartbeat",
            reason=problem,
            mode=Mode.REMEDIATE,
            plan=tuple(plan),
        )
        try:
            record, made = self.executor.remediate(finding)
        except Exception as exc:
            logger.exception("the heartbeat could not put an own function right", extra={"function": function})
            return f"{problem}; it could not be put right ({error_code(exc) or exc}): {summary}"
        undo = f"iamwarden undo {record.remediation_id}"
        if not made:
            return f"{problem}; put right by an earlier run or undone since ({record.status}: {undo})"
        done = "; ".join(record.done) or "nothing was left to change"
        return f"{problem}; done: {done} (undo: {undo})"


def stack_deployed_it(
    stack: str,
    described: Mapping[str, Any],
    resource: Mapping[str, Any] | None,
    last_modified: datetime | None,
    first_seen: datetime,
    *,
    now: datetime,
    record: DeployRecord | None = None,
) -> str | None:
    """Why the stack's own state says its last operation put this code there (the function is not stopped), or
    None: it does not.

    A deploy's new code is live before CloudFormation's ``UpdateFunctionCode`` reaches the enforcer, sometimes long
    before. So the stack is asked instead: its last operation began at ``LastUpdatedTime`` (``CreationTime`` for a
    stack never updated), and ``ListStackResources`` dates when it last finished with the function
    (``LastUpdatedTimestamp``, status ``CREATE_COMPLETE``/``UPDATE_COMPLETE``). The code is the deploy's when

    * that operation updated the function: the resource finished no earlier than the operation began;
    * the function's ``LastModified`` (any change to its code or configuration) falls within it: after the
      operation began and before CloudFormation finished with the function, so nobody changed it since; and
    * the heartbeat did not see this code before that modification: code live earlier was not this deploy's (an
      operation that only tagged the function leaves ``LastModified`` before it began);
    * the deploy's own event is not recorded yet: an ``OWN_CODE`` record from CloudFormation's event dated within
      the operation names the deploy's code, so a live hash unlike it is someone else's; and
    * it is no more than ``DEPLOY_EXCUSE`` since CloudFormation finished with the function: an event later than that
      is taken as never coming, and the code is stopped as any other (never excused for good).

    The operation's start is widened by ``CLOCK_SKEW``, its end only by ``FINISH_SKEW``. A change made by someone
    else while CloudFormation was updating the function (or during a tags-only update) passes for the deploy's for
    at most ``DEPLOY_EXCUSE``, alerted each run, and is stopped afterwards (review s10 F3).
    """
    if resource is None:
        return None
    began = described.get("LastUpdatedTime") or described.get("CreationTime")
    finished = resource.get("LastUpdatedTimestamp")
    if (
        str(resource.get("ResourceStatus")) not in SETTLED_RESOURCE
        or not isinstance(began, datetime)
        or not isinstance(finished, datetime)
        or last_modified is None
    ):
        return None
    if finished < began - CLOCK_SKEW:
        return None  # the last operation did not update the function
    if not began - CLOCK_SKEW <= last_modified <= finished + FINISH_SKEW:
        return None
    if now > finished + DEPLOY_EXCUSE:
        return None  # the deploy's event is later than any CloudTrail delivery: not taken as coming
    if (
        record is not None
        and record.from_cloudformation()
        and record.at is not None
        and record.at >= began - CLOCK_SKEW
    ):
        return None  # the deploy's own event is recorded (another hash): the live code is not that deploy's
    if first_seen < last_modified - CLOCK_SKEW:
        return None  # this code ran before the deploy's modification
    return (
        f"the stack {stack}'s last deploy (begun at {began.astimezone(UTC):%H:%M:%S} UTC) updated it at "
        f"{finished.astimezone(UTC):%H:%M:%S} UTC, and nothing changed it since (last modified at "
        f"{last_modified.astimezone(UTC):%H:%M:%S} UTC): it is taken for that deploy's code, whose "
        "UpdateFunctionCode has not been recorded yet (a late CloudTrail event), so it is not stopped before "
        f"{(finished + DEPLOY_EXCUSE).astimezone(UTC):%H:%M} UTC; if that event has not named this code by then, it "
        "will be stopped"
    )


def _instant(value: Any) -> datetime | None:
    """An ISO 8601 time as kept in the audit table or Lambda's ``LastModified``, or None when it is not one."""
    return None if value is None else instant(str(value))
