"""The resource-policy guardrail: one path for every policy attached to a resource (buckets today).

A resource policy (a bucket policy; later a queue, topic, key or function
policy) is judged statement by statement with the exposure analysis
(``iamwarden.domain.exposure``): a statement that lets in everyone is a finding
of the ``public`` rule, one that lets in accounts outside the trusted boundary
a finding of the ``cross_account`` rule. Each finding names exactly the
offending statements (by position and Sid, with their JSON), and its plan
removes those and nothing else.

Every resource-policy rule judges with the change's circumstances (``RuleContext.circumstances``: its
Region and time, and the live owner lookup of VPC endpoints and VPCs), so what the analysis knows applies
to each of them alike. A document whose every statement is a Deny is never a finding. A statement whose
verdict rests on a fact that could not be learned (who owns a network, which account a service acts for)
is never removed: when the finding also holds certain statements, the plan removes only those and the
reason names the rest; when it holds none, the finding carries ``needs_context`` and is only alerted.

The remediation reads the live document through a ``PolicyEndpoint`` (get, put,
delete, the error codes that mean "no policy" and "no resource", the IAM action
each call needs), removes the offending statements by meaning (``statement_meaning``: a
service may store a bare account id as its root ARN, or an action in another case), puts the rest
back (deletes the policy when nothing remains), and on undo puts the removed
statements back into the *current* document, refusing when a Sid is taken.

A new resource-policy guardrail is two rule specs, a ``PolicyResource``
(where the event names the resource and its policy, and how to say it) and an
endpoint; ``bucket_policy`` is the example. A resource whose events name it or
carry its policy elsewhere (a queue URL, a policy among other attributes) or
only as the pieces of one statement (an ``AddPermission`` call: accounts,
actions and a label) subclasses ``ResourcePolicyRule`` and overrides
``resource_name``, ``resource_arn`` or ``new_policy``; ``sqs_queue_policy``
and ``sns_topic_policy`` are the examples. A statement that AWS writes from such
pieces is matched by its Sid (``match: sid`` in the plan), because AWS chooses
its exact spelling; a policy's Sids are unique, so that is still exact.
"""

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple, Protocol

from iamwarden.adapters.errors import TransientAwsError, error_code
from iamwarden.domain.catalog import Mode, RuleSpec, Severity
from iamwarden.domain.documents import PolicyKind, load_policy
from iamwarden.domain.exceptions import RemediationError, UndoError
from iamwarden.domain.exposure import ACCOUNT_ID, Circumstances, Exposure, TrustBoundary, fresh_exposure
from iamwarden.domain.findings import Finding, RemediationStep, StepAction
from iamwarden.domain.judged import judged_once
from iamwarden.domain.lockout import Lockout, Remediator, lockout, lockout_flag, lockout_remedy, remediator
from iamwarden.domain.policy import Policy, Statement
from iamwarden.domain.recorded import Snapshot, observed_at, resource_policy_kind
from iamwarden.domain.statement_meaning import judged_entries, statement_meaning, still_granted
from iamwarden.guardrails.base import Evaluation, RuleContext
from iamwarden.guardrails.remediation import (
    AccountClients,
    Permissions,
    RemediationAction,
    StepRun,
    offending_statements,
    restore_statements,
    statement_list,
    statement_reference,
)


class PolicyEndpoint(Protocol):
    """Where a resource's policy lives: read, write and delete it, and what each call needs.

    ``get_permission``, ``put_permission`` and ``delete_permission`` are the IAM actions behind
    ``get``, ``put`` and ``delete`` (they may be the same action). An error of ``get`` whose code is in
    ``no_policy_codes``, or ``get`` returning None, means the resource has no policy; an error code in
    ``no_resource_codes`` means the resource itself is gone. ``delete`` removes the policy, or, for a
    resource that must have one (a KMS key, an SNS topic), puts the resource's default policy back.
    """

    @property
    def get_permission(self) -> str: ...

    @property
    def put_permission(self) -> str: ...

    @property
    def delete_permission(self) -> str: ...

    @property
    def no_policy_codes(self) -> frozenset[str]: ...

    @property
    def no_resource_codes(self) -> frozenset[str]: ...

    def get(self, aws: AccountClients, name: str) -> str | None:
        """The policy text of resource ``name`` (None: it has none)."""
        ...

    def put(self, aws: AccountClients, name: str, policy: str) -> None: ...

    def delete(self, aws: AccountClients, name: str) -> None: ...


class PolicyResource(NamedTuple):
    """What a resource-policy guardrail guards: where its events name it and its policy, and how to say it."""

    #: How people name the resource: "bucket" (as in "the policy of bucket acme-media").
    noun: str
    #: The request parameters naming the resource and holding its new policy (``bucketName``, ``bucketPolicy``).
    name_parameter: str
    document_parameter: str
    kind: PolicyKind
    #: The resource's ARN from (partition, region, account, name).
    arn: Callable[[str, str, str, str], str]
    #: The plan step parameter naming the resource (``bucket``): the audit trail and the JSON output show it.
    step_parameter: str
    #: The resource type in a CloudTrail record's ``resources`` (whose ``accountId`` is the resource's owner).
    resource_type: str
    #: The action pattern that means "everything on this service" (``s3:*``) and plain verbs for what a
    #: statement lets someone do, checked in order: ``(("s3:GetObject", "read objects"), ...)``.
    service_wildcard: str
    verbs: tuple[tuple[str, str], ...]


class RemovePolicyStatements:
    """Remove exactly the offending statements from the live resource policy; keep everything else. Undoable."""

    undoable = True

    def __init__(self, name: str, resource: PolicyResource, endpoint: PolicyEndpoint) -> None:
        self.resource = resource
        self.endpoint = endpoint
        self.permissions: Permissions = tuple(
            dict.fromkeys((endpoint.get_permission, endpoint.put_permission, endpoint.delete_permission))
        )
        self.action = StepAction(name, self.permissions)
        self.undo_permissions: Permissions = tuple(dict.fromkeys((endpoint.get_permission, endpoint.put_permission)))

    def _live(self, aws: AccountClients, name: str) -> tuple[bool, str | None]:
        """(the resource exists, its policy text or None)."""
        try:
            return True, self.endpoint.get(aws, name) or None
        except Exception as exc:
            code = error_code(exc)
            if code in self.endpoint.no_policy_codes:
                return True, None
            if code in self.endpoint.no_resource_codes:
                return False, None
            raise

    def _where(self, name: str) -> str:
        return f"the policy of {self.resource.noun} {name}"

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        name = step.parameters[self.resource.step_parameter]
        exists, policy = self._live(aws, name)
        if policy is None and step.parameters.get("policy_expected"):
            # The resource was created with this policy a moment ago, and the service's reads are eventually
            # consistent (DynamoDB: a read right after CreateTable may answer "no policy" or "no such table"):
            # "nothing to remove" would report a remediation that removed nothing. Read again later.
            raise TransientAwsError(
                f"{self._where(name)} reads as {'no policy' if exists else 'no such resource'} right after the call "
                "that created it with one: read again later",
                code="NotYetReadable",
                resource=name,
            )
        return {"exists": exists, "policy": policy}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if before["policy"] is None:
            return  # no policy (or no resource) any more: nothing to remove
        name = step.parameters[self.resource.step_parameter]
        document = json.loads(before["policy"])
        statements = statement_list(document)
        remaining = [statement for statement in statements if not statement_offends(statement, step)]
        removed = len(statements) - len(remaining)
        references = step.parameters["statements"]
        left = still_granted(remaining, references, run.aws.account)
        if not removed:
            # Nothing matched: a live statement granting the same under the event's key tests, a value stored in
            # another spelling (review R2b), still holds the finding's exposure.
            left = left or still_granted(remaining, references, run.aws.account, any_values=True)
            if left:  # the grant is live in a spelling or statement that is not the event's: never "already safe"
                raise RemediationError(unmatched_grant(self._where(name), left, "no statement matches the event's"))
            return  # a later policy no longer has them: never touch it
        if remaining:
            document["Statement"] = remaining
            self.endpoint.put(run.aws, name, json.dumps(document))
            done.append(f"removed {removed} statement(s) from {self._where(name)}; kept {len(remaining)}")
        else:
            self.endpoint.delete(run.aws, name)
            done.append(f"deleted {self._where(name)}: every statement in it was offending")
        if left:
            raise RemediationError(
                unmatched_grant(self._where(name), left, "other statements than the event's grant it")
            )

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        if before["policy"] is None:
            return []
        name = step.parameters[self.resource.step_parameter]
        exists, current_text = self._live(aws, name)
        if not exists:
            raise UndoError(f"{self.resource.noun} {name} no longer exists; its policy cannot be restored")
        before_document = json.loads(before["policy"])
        removed = [s for s in statement_list(before_document) if statement_offends(s, step)]
        if current_text is None:
            document = {key: value for key, value in before_document.items() if key != "Statement"}
            current: list[Any] = []
        else:
            document = json.loads(current_text)
            current = statement_list(document)
        missing = restore_statements(current, removed, self._where(name))
        if not missing:
            return []
        document["Statement"] = current + missing
        self.endpoint.put(aws, name, json.dumps(document))
        return [f"restored {len(missing)} statement(s) into the current policy of {self.resource.noun} {name}"]


def record_key(arn: str, account: str) -> str:
    """Where the record of a resource's policy is kept: its ARN, with the account when the ARN names none (a bucket's
    ``arn:aws:s3:::name``), so a bucket deleted in one account and made again under its name in another starts with
    no record rather than the first one's."""
    parts = arn.split(":")
    return arn if len(parts) > 4 and parts[4] else f"{arn}#{account}"


def statement_offends(statement: Any, step: RemediationStep) -> bool:
    """Whether ``statement`` is one the step removes: the same content, or the Sid of one AWS wrote."""
    if statement_meaning(statement) in offending_statements(step):
        return True
    sids = {ref["sid"] for ref in step.parameters["statements"] if ref.get("match") == "sid" and ref.get("sid")}
    return isinstance(statement, dict) and statement.get("Sid") in sids


def unmatched_grant(where: str, left: Sequence[tuple[str, Sequence[str]]], why: str) -> str:
    """Why a removal could not make the resource safe: who the live policy still lets in, and where."""
    held = "; ".join(f"{', '.join(grantees)} by {label}" for label, grantees in left)
    return f"{where} still lets in {held}, but {why}: needs a person"


class Earlier(NamedTuple):
    """What of a resource's policy IAM Warden had on record before the change judged (``ResourcePolicyRule._earlier``).

    ``statements`` are the meanings (``statement_meaning``) of the statements then in force, less any IAM Warden
    meant to remove then or removed ever (a statement it remediated before never counts as "already there": an
    attacker adding it again is adding it); ``remediated_sids`` the Sids of statements it removed by Sid;
    ``older_sids`` the Sids of the statements then in force (a changed statement under one of them widens or
    rewrites an older grant, which its removal cuts too).
    """

    taken_at: str
    statements: frozenset[str]
    remediated_sids: frozenset[str] = frozenset()
    older_sids: frozenset[str] = frozenset()

    def rewrites(self, statement: Statement) -> bool:
        """Whether ``statement``, not in force before, carries the Sid of one that was (a widened vendor share)."""
        return bool(statement.sid) and statement.sid in self.older_sids and not self.holds(statement)

    def holds(self, statement: Statement) -> bool:
        """Whether ``statement`` was in force before the change (the same meaning, however re-spelt)."""
        return statement_meaning(statement.raw) in self.statements and statement.sid not in self.remediated_sids


def _with_pending(snapshot: Snapshot, findings: Sequence[Finding]) -> Snapshot:
    """``snapshot`` marking as ``pending`` every offending statement the change added, unless its finding was judged in
    ``alert`` mode (the operator chose to alert only: the grant is then accepted as in force and may count as older).

    Pending statements stay in the record of what is in force, but never count as older later: whatever else left
    them in place (a break-glass actor, the rule ``off`` while its sibling is on, the breaker, a failure, an unknown
    fact, even beside a certain statement of the same finding) must not make a grant "already there" for good. A
    statement already older stays older. After a remediation the record is the document without the statements the
    plans removed; the ones left in place stay pending."""
    document = snapshot.data.get("policy")
    if not isinstance(document, Mapping):
        return snapshot
    pending = {
        statement_meaning(reference.get("statement"))
        for finding in findings
        if finding.mode is not Mode.ALERT  # remediate (break-glass, uncertain, held or failed too) or off
        for reference in finding.offending
        if not reference.get("older")
    }
    removed = {
        statement_meaning(reference.get("statement"))
        for finding in findings
        if finding.mode is Mode.REMEDIATE
        for step in finding.plan
        for reference in step.parameters.get("statements", ())
    }
    pending |= removed
    if not pending:
        return snapshot
    kept = [statement for statement in statement_list(document) if statement_meaning(statement) not in removed]
    return snapshot._replace(
        data={"policy": dict(document), "pending": sorted(pending)},
        if_remediated={"policy": {**document, "Statement": kept}, "pending": sorted(pending - removed)},
    )


class NewPolicy(NamedTuple):
    """What a change puts into a resource's policy, as the rule judges it."""

    policy: Policy
    #: The statements are AWS's rendering of an ``AddPermission``-style call: match them by Sid, not content.
    by_sid: bool = False


class ResourcePolicyRule:
    """A new resource policy letting in the public (``public``) or untrusted accounts (``cross_account``).

    ``resource_name``, ``resource_arn`` and ``new_policy`` read the event; a resource whose events
    say it differently overrides them (the defaults read ``PolicyResource``'s two request parameters).
    ``remediation`` is usually a ``RemovePolicyStatements``; any action taking the same plan (the
    resource under ``step_parameter`` and the statement references) will do: Lambda, which has no call
    that writes a whole policy, removes a statement by its id instead.
    """

    def __init__(
        self, public: RuleSpec, cross_account: RuleSpec, resource: PolicyResource, remediation: RemediationAction
    ) -> None:
        self.public, self.cross_account = public, cross_account
        self.specs: tuple[RuleSpec, ...] = (public, cross_account)
        self.resource = resource
        self.remediation = remediation

    def evaluate(self, context: RuleContext) -> Evaluation:
        name = self.resource_name(context)
        arn = self.resource_arn(context, name)
        evaluation = Evaluation(resource_arn=arn)
        where = self.describe(name)
        new = self.new_policy(context)
        if new is None:
            evaluation.compliant.append(f"the change sets no policy on {where}")
            return evaluation
        policy, by_sid = new
        if context.recorded is not None:
            evaluation.observed.append(self._seen(context, arn, policy, by_sid))
        if policy.only_denies:
            evaluation.compliant.append(f"every statement of the policy of {where} is a Deny: it grants nothing")
            return evaluation
        boundary = context.settings.boundary(self._owner(context))
        circumstances = context.circumstances()

        public: list[tuple[Statement, Exposure]] = []
        shared: list[tuple[Statement, Exposure]] = []
        void: list[str] = []
        for statement, exposure in zip(policy.statements, self.exposures(policy, boundary, circumstances), strict=True):
            if exposure.void is not None:
                void.append(f"{statement.label} grants nothing: {exposure.void}")
            elif exposure.public:
                public.append((statement, exposure))
            elif exposure.untrusted or exposure.unbound_services:
                shared.append((statement, exposure))

        def public_reason(acting: list[tuple[Statement, Exposure]], origin: str) -> str:
            return f"Anyone on the internet can {self._abilities(acting)} in {where} ({_labels(acting)} {origin})."

        def shared_reason(acting: list[tuple[Statement, Exposure]], origin: str) -> str:
            sentences = []
            strangers = [(s, e) for s, e in acting if e.untrusted]
            if strangers:
                sentences.append(
                    f"{_capitalised(_join(_outsiders(strangers)))}, which this organisation does not trust, can "
                    f"{self._abilities(strangers)} in {where} ({_labels(strangers)} {origin})."
                )
            deputies = [(s, e) for s, e in acting if e.unbound_services]
            if deputies:
                services = sorted({_service_name(x) for _, e in deputies for x in e.unbound_services})
                sentences.append(
                    f"The service{'s' if len(services) > 1 else ''} {_join(services)}, acting for any account "
                    f"that uses {'it' if len(services) == 1 else 'them'}, can {self._abilities(deputies)} in {where} "
                    f"({_labels(deputies)} {origin}): no aws:SourceAccount or aws:SourceArn "
                    "condition ties the service to this organisation's accounts (the confused deputy)."
                )
            return " ".join(sentences)

        earlier = (
            self._earlier(context, arn, [s for s, _ in public + shared]) if not by_sid and (public or shared) else None
        )
        for spec, severity, offending, reason in (
            (self.public, Severity.CRITICAL, public, public_reason),
            (self.cross_account, Severity.HIGH, shared, shared_reason),
        ):
            if offending:
                evaluation.findings.append(
                    self._finding(
                        context,
                        spec=spec,
                        severity=severity,
                        arn=arn,
                        name=name,
                        offending=offending,
                        reason=reason,
                        by_sid=by_sid,
                        earlier=earlier,
                    )
                )
        evaluation.findings[:] = self._unless_all_shut_out(context, policy, arn, evaluation.findings)
        if evaluation.observed and evaluation.findings:
            evaluation.observed[-1] = _with_pending(evaluation.observed[-1], evaluation.findings)
        if not evaluation.findings:
            evaluation.compliant.append(
                f"the policy of {where} lets in only the trusted accounts, organisation and AWS services"
                + "".join(f"; {reason}" for reason in void)
            )
        return evaluation

    def _finding(
        self,
        context: RuleContext,
        *,
        spec: RuleSpec,
        severity: Severity,
        arn: str,
        name: str,
        offending: list[tuple[Statement, Exposure]],
        reason: Callable[[list[tuple[Statement, Exposure]], str], str],
        by_sid: bool = False,
        earlier: "Earlier | None" = None,
    ) -> Finding:
        """One finding over the offending statements; what rests on an unknown fact, or was in the policy before the
        change (``earlier``), is never removed ("remove what the change added, no more").

        When some statements the change added are certain, the plan removes those and the reason names the ones left
        in place and why. When none is, the finding needs context: alerted with the plan, never carried out. When the
        change added none of them (each was on record before it), the finding is alerted only, with no plan, at the
        severity the exposure deserves: the editor is not blamed for it, and nobody's older grant is cut by an
        unrelated edit.
        """
        change = context.change
        older = [(s, e) for s, e in offending if earlier is not None and earlier.holds(s)]
        added = [(s, e) for s, e in offending if (s, e) not in older]
        unevaluated = [f"{', '.join(e.unevaluated)} in {s.label}" for s, e in offending if e.unevaluated]
        judged_without = (
            f" Judged without the conditions IAM Warden does not evaluate: {'; '.join(unevaluated)}."
            if unevaluated
            else ""
        )
        since = earlier.taken_at if earlier is not None else ""  # older statements come only from a record
        if not added:
            text = reason(offending, f"of the policy IAM Warden recorded at {since}, before this change")
            text += (
                (" These statements predate" if len(offending) > 1 else " This statement predates")
                + f" the change by {change.actor.display}, which did not add "
                + ("them" if len(offending) > 1 else "it")
                + ": IAM Warden alerts and removes nothing (a remediation removes what the change added, no more)."
            )
            return context.finding(
                spec,
                severity=severity,
                resource_arn=arn,
                reason=text + judged_without,
                plan=[],
                offending=[_offending(s, e) | {"older": True} for s, e in offending],
            )
        certain = [(s, e) for s, e in added if not _facts(s, e)]
        acting = certain or added
        text = reason(acting, f"of the policy set by {change.actor.display}")
        kept = [(s, e) for s, e in added if (s, e) not in certain] if certain else []
        if kept:
            text += (
                f" IAM Warden leaves {_labels(kept)} in place, because it cannot know {'; '.join(_all_facts(kept))}."
            )
        if older:
            text += (
                f" {_capitalised(_labels(older))} of the policy also {'let' if len(older) > 1 else 'lets'} in "
                f"{_join(_grantees_said(older))}, but predate{'' if len(older) > 1 else 's'} this change (in the "
                f"policy IAM Warden recorded at {since}): alerted, never removed."
            )
        elif earlier is None and not self.creates(context) and not by_sid:
            text += (
                f" No earlier record of this policy: all of it counts as this change's, though {_labels(acting)} may "
                "predate it."
            )
        widened = [(s, e) for s, e in acting if earlier is not None and earlier.rewrites(s)]
        if widened:
            many = len(widened) > 1
            text += (
                f" {_capitalised(_labels(widened))} {'change' if many else 'changes'} the statement"
                f"{'s' if many else ''} of the same Sid in the policy IAM Warden recorded at {since}: removing "
                f"{'them' if many else 'it'} cuts that older grant too (an undo puts back the changed statement; "
                "put the older one back by hand if it is still wanted)."
            )
        return context.finding(
            spec,
            severity=severity,
            resource_arn=arn,
            reason=text + judged_without,
            plan=[self._removal(name, arn, acting, by_sid)],
            offending=[
                _offending(s, e)
                | ({"older": True} if (s, e) in older else {})
                | ({"rewrites_older": True} if (s, e) in widened else {})
                for s, e in offending
            ],
            needs_context=() if certain else _all_facts(added),
        )

    def _unless_all_shut_out(
        self, context: RuleContext, policy: Policy, arn: str, findings: Sequence[Finding]
    ) -> list[Finding]:
        """Every finding of the evaluation as it stands when the new policy shuts IAM Warden out (a service whose
        plans together leave one policy, KMS, judges what they leave together)."""
        return [self._unless_shut_out(context, policy, arn, finding) for finding in findings]

    def remedy(self, context: RuleContext, policy: Policy) -> str:
        """Who can still fix ``policy`` when IAM Warden cannot (the manual step an alert gives)."""
        return lockout_remedy(context.change.event_source)

    def _unless_shut_out(self, context: RuleContext, policy: Policy, arn: str, finding: Finding) -> Finding:
        """``finding`` as it stands when the new policy also shuts IAM Warden out of the calls its plan makes (review
        s11 F9): denied for certain, it is critical and carries no plan (one that cannot run would only be retried
        and dead-lettered), with who can still fix it; undecidable, the plan stands with a note, and a refusal of its
        call ends as a final "shut out" alert (``Finding.if_denied``).
        A record flag by which the caller asked AWS to accept a policy shutting itself out is said either way."""
        flag = lockout_flag(context.change.event_source, context.change.event_name, context.change.request_parameters)
        reason = finding.reason + (f" {flag}" if flag else "")
        if not finding.plan:
            return finding._replace(reason=reason)
        remaining = len(policy.statements) - sum(len(step.parameters.get("statements", ())) for step in finding.plan)
        endpoint = getattr(self.remediation, "endpoint", None)
        if endpoint is not None:
            needed: tuple[str, ...] = tuple(
                dict.fromkeys(
                    (endpoint.get_permission, endpoint.put_permission if remaining > 0 else endpoint.delete_permission)
                )
            )
        else:
            needed = tuple(self.remediation.action.permissions)
        who = remediator(context.settings.own, context.change.account, context.partition)
        shut = self.shut_out(context, policy, arn, needed, who)
        if shut.denied:
            return finding._replace(
                severity=Severity.CRITICAL,
                plan=(),
                needs_context=(*finding.needs_context, *shut.denied),
                reason=f"{reason} IAM Warden cannot remove it: {'; '.join(shut.denied)}. "
                + self.remedy(context, policy),
            )
        if shut.unknown:
            # Undecidable is no lockout: an inert Deny must not make every finding alert-only (review s13 F1). The
            # plan stands; a refusal of its call is then final, never retried (``if_denied``).
            return finding._replace(
                reason=f"{reason} Note: {'; '.join(shut.unknown)}.",
                if_denied=f"IAM Warden is shut out of {arn}: {'; '.join(shut.unknown)}. "
                + self.remedy(context, policy),
            )
        return finding._replace(reason=reason)

    def shut_out(
        self, context: RuleContext, policy: Policy, arn: str, actions: Sequence[str], who: Remediator | None
    ) -> Lockout:
        """Which of ``policy``'s statements keep the remediator from calling ``actions`` on the resource (a
        service whose resource policy must also let IAM policies in, KMS, adds that)."""
        return lockout(policy, actions, arn, who)

    def policy_slot(self, context: RuleContext) -> str:
        """Which of the resource's policies the change sets ("": its one policy); a resource with several keeps the
        last seen document of each apart."""
        return ""

    def creates(self, context: RuleContext) -> bool:
        """Whether the change creates the resource with its policy: everything in it is then the change's own."""
        return context.change.event_name.startswith("Create") or context.change.event_name == "ReplicateKey"

    def _seen(self, context: RuleContext, arn: str, policy: Policy, by_sid: bool) -> Snapshot:
        """What the change leaves as the resource's policy, the next change's "before" (``domain.recorded``
        ``RESOURCE_POLICY``). Only what the judged event set: a call that failed is never judged, so never kept.
        An ``AddPermission``-style change shows one statement, not the document: the record then says it is
        unknown (``policy`` None) unless the statement is removed (the record before it holds again)."""
        kind = resource_policy_kind(self.policy_slot(context))
        taken = observed_at(context.change.time)
        if by_sid:
            return Snapshot(
                kind, record_key(arn, context.change.account), taken, {"policy": None}, whatever_the_verdict=True
            )
        document = dict(policy.raw)
        return Snapshot(
            kind,
            record_key(arn, context.change.account),
            taken,
            {"policy": document, "pending": []},
            whatever_the_verdict=True,
            if_remediated={"policy": document, "pending": []},
        )

    def _earlier(self, context: RuleContext, arn: str, offending: Sequence[Statement]) -> "Earlier | None":
        """What of the policy was on record before this change (None: nothing usable, so the whole document counts
        as the change's, as before). Read only when the change has offending statements, and never for a create."""
        recorded = context.recorded
        if recorded is None or self.creates(context):
            return None
        snapshot = recorded.snapshot(
            resource_policy_kind(self.policy_slot(context)), record_key(arn, context.change.account)
        )
        if snapshot is None or snapshot.unusable or not snapshot.taken_before(context.change.time):
            return None
        document = snapshot.data.get("policy")
        if not isinstance(document, Mapping):
            return None
        pending = snapshot.data.get("pending") or ()
        in_force = {
            statement_meaning(statement): statement.get("Sid") if isinstance(statement, Mapping) else None
            for statement in statement_list(document)
        }
        seen = set(in_force) - set(pending)
        older_sids = frozenset(str(in_force[meaning]) for meaning in seen if in_force[meaning])
        if not any(statement_meaning(s.raw) in seen for s in offending):
            # nothing to split: the past remediations are not read
            return Earlier(snapshot.taken_at, frozenset(), older_sids=older_sids)
        removed: set[str] = set()
        sids: set[str] = set()
        for past in recorded.remediations(arn):  # any attempt: remediated, failed, undone or under way
            for step in past.plan:
                parameters = step.get("parameters")
                references = parameters.get("statements") if isinstance(parameters, Mapping) else None
                for reference in references if isinstance(references, list) else ():
                    if isinstance(reference, Mapping):
                        removed.add(statement_meaning(reference.get("statement")))
                        if reference.get("match") == "sid" and reference.get("sid"):
                            sids.add(str(reference["sid"]))
        return Earlier(snapshot.taken_at, frozenset(seen - removed), frozenset(sids), older_sids)

    def resource_name(self, context: RuleContext) -> str:
        """The resource as its API names it (the plan's ``step_parameter``)."""
        return context.request_text(self.resource.name_parameter)

    def exposure(
        self, statement: Statement, boundary: TrustBoundary, circumstances: Circumstances | None = None
    ) -> Exposure:
        """Who ``statement`` lets in (``exposure_of``, not kept per statement: ``exposures`` keeps the whole
        document's verdict; a service with its own account keys may translate them)."""
        return fresh_exposure(statement, boundary, circumstances)

    def exposures(
        self, policy: Policy, boundary: TrustBoundary, circumstances: Circumstances | None = None
    ) -> tuple[Exposure, ...]:
        """``exposure`` of every statement of ``policy``, judged once per document, rule and boundary
        (``judged_once``): a document seen before is one look-up."""
        # ``fresh_exposure`` itself when no subclass translates it (one call fewer per statement on first sight).
        exposure = fresh_exposure if type(self).exposure is ResourcePolicyRule.exposure else self.exposure
        return judged_once(
            policy,
            (self, boundary),
            circumstances,
            lambda: tuple([exposure(statement, boundary, circumstances) for statement in policy.statements]),
        )

    def display_name(self, name: str) -> str:
        """The resource as people name it in a finding (a queue's name rather than its URL)."""
        return name

    def describe(self, name: str) -> str:
        """The resource in a sentence: "queue orders-events"."""
        return f"{self.resource.noun} {self.display_name(name)}"

    def resource_arn(self, context: RuleContext, name: str) -> str:
        change = context.change
        return self.resource.arn(context.partition, change.region, change.account, name)

    def new_policy(self, context: RuleContext) -> NewPolicy | None:
        """The policy the change sets, or None when it sets none (it changed something else, or removed it)."""
        return NewPolicy(
            self.decoded(
                context.change.request_parameters.get(self.resource.document_parameter),
                f"detail.requestParameters.{self.resource.document_parameter}",
            )
        )

    def decoded(self, value: object, field: str) -> Policy:
        """A policy document from the event (object or JSON string), within the resource kind's size limit."""
        return load_policy(value, self.resource.kind, field=field)

    def _owner(self, context: RuleContext) -> str:
        """The resource's account from the record's resources (S3 records carry it), else the event's."""
        for item in context.change.resources:
            if item.get("type") == self.resource.resource_type and isinstance(item.get("accountId"), str):
                return str(item["accountId"])
        return context.change.account

    def _removal(
        self, name: str, arn: str, offending: list[tuple[Statement, Exposure]], by_sid: bool = False
    ) -> RemediationStep:
        resource = self.resource
        references = [
            statement_reference(s) | _judged_grantees(s, exposure) | ({"match": "sid"} if by_sid else {})
            for s, exposure in offending
        ]
        return RemediationStep(
            self.remediation.action,
            arn,
            {resource.step_parameter: name, "statements": references},
            f"remove {_labels(offending)} from the policy of {self.describe(name)}, keep the rest",
        )

    def _abilities(self, offending: list[tuple[Statement, Exposure]]) -> str:
        statements = [statement for statement, _ in offending]
        if any(s.grants_action(self.resource.service_wildcard) for s in statements):  # *, or a sparing NotAction
            return "do anything"
        verbs = [verb for action, verb in self.resource.verbs if any(s.grants_action(action) for s in statements)]
        if verbs:
            return _join(verbs)
        actions = sorted({a for s in statements for a in (s.actions or s.not_actions or ())})
        return "call " + _join(actions)


def _grantees_said(offending: Sequence[tuple[Statement, Exposure]]) -> list[str]:
    """Who older statements let in, as people say it ("everyone", "account 999988887777")."""
    said = {"everyone"} if any(e.public for _, e in offending) else set()
    return sorted(said | set(_outsiders([(s, e) for s, e in offending if not e.public])))


def _offending(statement: Statement, exposure: Exposure) -> dict[str, Any]:
    facts = _facts(statement, exposure)
    return {
        **statement_reference(statement),
        "public": exposure.public,
        "grantees": sorted(exposure.untrusted | {_unbound(service) for service in exposure.unbound_services}),
        "narrowed_by": list(exposure.narrowed_by),
        "certain": not facts,
        **({"needs_context": facts} if facts else {}),
        **({"unevaluated_conditions": list(exposure.unevaluated)} if exposure.unevaluated else {}),
    }


def _judged_grantees(statement: Statement, exposure: Exposure) -> dict[str, Any]:
    """The grantees the after-cut check looks for (``still_granted``): only the ones the exposure judged
    offending, so a trusted account or a bound service principal of the same statement, still let in by its own
    statement, is no failure. Nothing named (an entry no label maps to): every principal of it (fail closed)."""
    entries = judged_entries(statement.principal, untrusted=exposure.untrusted, services=exposure.unbound_services)
    if not (exposure.public or exposure.untrusted or exposure.unbound_services) or not entries:
        return {}
    return {"outsiders": entries}


def _facts(statement: Statement, exposure: Exposure) -> list[str]:
    """What the verdict on ``statement`` rests on that could not be known (empty when it is certain)."""
    return [*exposure.unknown, *(_deputy_fact(service) for service in sorted(exposure.unbound_services))]


def _deputy_fact(service: str) -> str:
    return (
        f"which account {_service_name(service)} acts for: without an aws:SourceAccount or aws:SourceArn "
        "condition it may be any account's (a confused-deputy risk: alerted, never removed; add a condition "
        "naming your account)"
    )


def _all_facts(offending: Sequence[tuple[Statement, Exposure]]) -> list[str]:
    """Each unknown fact once, with the statements whose verdict rests on it."""
    where: dict[str, list[str]] = {}
    for statement, exposure in offending:
        for fact in _facts(statement, exposure):
            where.setdefault(fact, []).append(statement.label)
    return [f"{fact} ({_join(labels)})" for fact, labels in where.items()]


def _service_name(service: str) -> str:
    return "Elastic Load Balancing" if service == "elasticloadbalancing" else service


def _unbound(service: str) -> str:
    return f"any account through {_service_name(service)}"


def _outsiders(offending: Sequence[tuple[Statement, Exposure]]) -> list[str]:
    labels = {_outsider(label) for _, e in offending for label in e.untrusted}
    labels.update(_unbound(service) for _, e in offending for service in e.unbound_services)
    return sorted(labels)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _outsider(label: str) -> str:
    """An untrusted grantee as people say it: "account 999988887777", "organization o-…"."""
    return f"account {label}" if ACCOUNT_ID.fullmatch(label) else label


def _labels(offending: Sequence[tuple[Statement, Exposure]]) -> str:
    return _join([statement.label for statement, _ in offending])


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
