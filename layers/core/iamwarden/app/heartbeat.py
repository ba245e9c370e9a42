"""The heartbeat: every 5 minutes, a synthetic check that IAM Warden's loop is whole, and an alert when it is not.

An intruder who disables the rule that would route the alert about disabling it (or sets the enforcer's
concurrency to 0, so nothing it is handed ever runs) silences ``iamwarden-tampered``. The heartbeat is a
separate function with its own role (it reads, and puts right only what ``app.own_function_guard`` says): it checks
that each of the stack's EventBridge rules exists, is enabled and targets what it should (the enforcer, the
central bus for the forwarder, the pruner's planner and watch functions for its schedule and watch rules), that
the central bus's policy still admits the organisation's accounts (the statement the template declares), that the
alert topic has a confirmed subscription, that the alert
key's policy, the topic's data protection and the central bus's key are as declared (``AlertPathCheck``), that the
enforcer may run (its reserved concurrency is not 0)
and that the enforcer's role has exactly the managed policies its template attaches (the remediation grants,
``IAMWARDEN_ENFORCER_POLICY_ARNS``): nothing more, nothing detached, each at the default version its stack deployed
(``app.own_policies``), and that the fallback topic is as declared (``FallbackTopicCheck``: there, encrypted with
``alias/aws/sns``, its policy and a confirmed subscription). Anything missing is one critical alert to the security
topic; when the alert path itself is broken (the topic gone or without subscribers, its key's policy or data
protection changed) or the security topic refuses the alert, it goes to the fallback topic as well. Its own schedule is
watched by ``iamwarden-tampered`` (``DisableRule`` on ``iamwarden-heartbeat``) and by a CloudWatch alarm on its
invocations.

Each run also refreshes the last-known-good snapshots that defense-evasion and persistence restores read
(``cloudtrail-logging-impaired``: the trails whose home is this account and region, and those homed in the
other regions this account's multi-region trails name, each read in its home region; ``permissions-boundary-weakened``:
every role's and user's boundary; ``identity-provider-unknown``: every OIDC provider's client ids and thumbprints and
every SAML provider's metadata; ``guardduty-disabled`` and ``config-recording-stopped``: the region's GuardDuty
detector while enabled and each customer-managed AWS Config recorder that records, for their re-creation after a
delete; ``iamwarden-tampered``: the trust and inline policies of the stack's own roles, and
the delivery attributes of each confirmed subscription of the alert topic; ``managed-policy-attached``,
``group-membership-escalation`` and ``privilege-escalation``: what every role, user and group holds attached and every
user's groups, so a re-attach that added nothing is not removed),
into the audit table. Only good trails are snapshotted, so a refresh never
records an attacker's state as the one to restore. A refresh that fails is one more problem in the alert: until it
works, restores use the previous snapshot, or only alert when there is none. The deploy takes the first
snapshots through the same refresh (``app.deploy_snapshot``, the stack's ``DeploySnapshot`` custom resource).
The member accounts' trails, boundaries and the member stack's own roles (``IAMWARDEN_MEMBER_ROLE_NAMES``)
are taken too (``MemberSnapshots``), through each account's read-only ``iamwarden-snapshot-reader`` role, each keyed
by that account's ARN, and their forwarding checked in each region with a member stack instance: which accounts
(the organisation's and ``managed_accounts``) and regions (the member StackSet's instances), in turn, a bounded
number of (account, region) pairs a run, is ``app.member_coverage``'s.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import re
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any, NamedTuple, Protocol

from iamwarden.adapters.audit import AuditLog
from iamwarden.adapters.clients import ClientFactory, aws_session, retry_config
from iamwarden.adapters.errors import error_code, is_gone
from iamwarden.adapters.recorded import (
    AuditRecorded,
    list_topic_subscriptions,
    quarantine_boundary_in_force,
    read_authorization_details,
    snapshot_key,
    take_attachment_snapshots,
    take_boundary_snapshots,
    take_detector_snapshots,
    take_identity_provider_snapshots,
    take_own_role_snapshots,
    take_recorder_snapshots,
    take_subscription_snapshots,
    take_trail_snapshots,
    take_trust_snapshots,
    trail_home_regions,
)
from iamwarden.adapters.ssm_settings import SsmSettingsSource, ssm_parameters
from iamwarden.app.config import own_identity_from_environment
from iamwarden.app.deploy_snapshot import DeploySnapshot, SnapshotTaker
from iamwarden.app.executor import RemediationExecutor
from iamwarden.app.member_coverage import Coverage, CoverageState, MemberCoverage, Pair, Watched, enabled_regions
from iamwarden.app.own_function_guard import DeployRecord, Executes, OwnFunctionGuard
from iamwarden.app.own_policies import DeployTakers, OwnPolicyWatch
from iamwarden.app.public_access_seed import BUDGET_SECONDS as PUBLIC_ACCESS_BLOCK_BUDGET_SECONDS
from iamwarden.app.public_access_seed import CURSOR as PUBLIC_ACCESS_BLOCK_CURSOR
from iamwarden.app.public_access_seed import (
    DEFAULT_BUCKETS_PER_RUN,
    DEFAULT_MAX_AGE_DAYS,
    DEFERRED_ACCOUNT,
    MemberPublicAccessBlockSeed,
    PublicAccessBlockSeed,
    is_gap,
)
from iamwarden.app.trail_coverage import TrailCoverage
from iamwarden.domain import declared
from iamwarden.domain.arns import partition_of
from iamwarden.domain.breaker import kill_switch_name
from iamwarden.domain.canonical import canonical
from iamwarden.domain.catalog import Mode
from iamwarden.domain.declared_content import (
    DeclaredRole,
    declared_alert_key_policy,
    declared_bus_policy,
    declared_fallback_topic_policy,
    declared_forwarder_role,
    declared_inline_policy,
    declared_own_policy,
    declared_queue_policy,
    declared_rule,
    fill,
    pattern_matches,
    rule_differences,
)
from iamwarden.domain.exceptions import ConfigurationError
from iamwarden.domain.own import (
    CENTRAL_BUS_STATEMENT_ID,
    MEMBER_SESSION,
    REGION_PLACEHOLDER,
    SNAPSHOT_SESSION,
    OwnIdentity,
    admits_only_the_stack,
    parse_own_roles,
)
from iamwarden.domain.recorded import (
    ATTACHMENTS,
    OWN_CODE,
    OWN_CODE_UNKNOWN,
    OWN_ROLE,
    PUBLIC_ACCESS_BLOCK,
    FillsSnapshots,
    KeepsSnapshots,
    Snapshot,
)
from iamwarden.domain.settings import Settings
from iamwarden.domain.wildcards import arn_match
from iamwarden.guardrails.public_access_block import S3_PUBLIC_ACCESS_BLOCK_DISABLED
from iamwarden.guardrails.tampering import bus_policy_differences, policy_statement

#: The stack's default-bus rules whose target is not the enforcer.
FORWARDER = "iamwarden-forward-own-events"
SCHEDULE = "iamwarden-heartbeat"
PRUNE_SCHEDULE = "iamwarden-prune-schedule"
PRUNE_WATCH = "iamwarden-prune-watch"
EXCEPTION_WATCH = "iamwarden-exception-watch"
#: The rule that must never be off (``Heartbeat.guard_settings_problems``).
TAMPERED = "iamwarden-tampered"

logger = logging.getLogger(__name__)


class HeartbeatConfig(NamedTuple):
    """What the heartbeat checks, from the template's environment."""

    rules: tuple[str, ...]
    enforcer_arn: str
    central_bus_arn: str
    enforcer_role_name: str
    topic_arn: str
    stack_name: str
    #: What the enforcer's rules target: the enforcer function itself (a stand-in where nothing can invoke it).
    enforcer_target_arn: str | None = None
    #: Where the snapshots go (the audit table), and whose trails and boundaries they are; no table: no refresh.
    audit_table: str | None = None
    account: str | None = None
    region: str | None = None
    #: What the pruner's schedule and watch rules target (its planner and watch functions).
    prune_planner_arn: str | None = None
    prune_watch_arn: str | None = None
    exception_watch_arn: str | None = None
    #: The names of the stack's own roles (``IAMWARDEN_OWN_ROLE_ARNS``), whose trust and inline policies are
    #: snapshotted for ``iamwarden-tampered``'s restores.
    own_roles: tuple[str, ...] = ()
    #: The member accounts' read-only snapshot role (member/template.yaml) and where the managed accounts are
    #: listed (the settings prefix): both set, the member accounts' trails and boundaries are snapshotted too.
    member_snapshot_role: str | None = None
    settings_prefix: str | None = None
    #: The names of the member stack's roles (``IAMWARDEN_MEMBER_ROLE_NAMES``), whose trust and inline policies are
    #: snapshotted in each member account through its snapshot role, for the restores there.
    member_roles: tuple[str, ...] = ()
    #: kind -> name of the member stack's roles (``IAMWARDEN_MEMBER_ROLE_NAMES``), which the member forwarding
    #: rules' patterns name.
    member_role_kinds: tuple[tuple[str, str], ...] = ()
    #: The managed policies the template attaches to the enforcer's role (``IAMWARDEN_ENFORCER_POLICY_ARNS``):
    #: its remediation grants, too large for the role's inline policies.
    enforcer_policy_arns: tuple[str, ...] = ()
    #: The role the forwarder's target uses (``IAMWARDEN_FORWARDER_ROLE_ARN``); None: not compared.
    forwarder_role_arn: str | None = None
    #: The organisation the central bus's policy admits (``IAMWARDEN_ORGANIZATION_ID``); None: no bus policy.
    organization_id: str | None = None
    #: The alert topic's key (``IAMWARDEN_ALERT_KEY_ARN``) and the stack's roles by kind (``IAMWARDEN_OWN_ROLE_ARNS``),
    #: which its declared key policy names: the key policy is checked against the template's (``AlertPathCheck``).
    alert_key_arn: str | None = None
    own_role_arns: tuple[tuple[str, str], ...] = ()
    #: IAM Warden's own identity as the functions' environment declares it (roles, secrets, stack): what the
    #: declared rule content is filled in with (``declared_content``); None: the rules' patterns are not compared.
    own: OwnIdentity | None = None
    #: The heartbeat's own values of the variables the template's Globals give every function
    #: (``declared.SHARED_ENVIRONMENT``): each own function must have the same (``OwnFunctionCheck``).
    shared_environment: tuple[tuple[str, str], ...] = ()
    #: The enforcer's dead-letter queue (``IAMWARDEN_DEAD_LETTER_QUEUE_URL``/``_ARN``): its policy must let
    #: EventBridge deliver there as the template declares; None: not checked.
    dead_letter_queue_url: str | None = None
    dead_letter_queue_arn: str | None = None
    #: The last-resort topic (``IAMWARDEN_ALERT_FALLBACK_TOPIC_ARN``): checked, and told when the alert path is broken.
    fallback_topic_arn: str | None = None
    #: The exceptions table (``IAMWARDEN_EXCEPTIONS_TABLE``): its resource policy is checked like the audit table's.
    exceptions_table: str | None = None
    #: The stack's ``UserRemediation`` (``IAMWARDEN_USER_REMEDIATION``): which of the template's documents of the
    #: enforcer's managed policies was deployed (``declared_content.declared_own_policy``).
    user_remediation: str = "quarantine"

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> HeartbeatConfig:
        env = os.environ if environ is None else environ
        missing = [
            name
            for name in (
                "IAMWARDEN_ENFORCER_ARN",
                "IAMWARDEN_CENTRAL_BUS_ARN",
                "IAMWARDEN_ENFORCER_ROLE_NAME",
                "IAMWARDEN_ALERT_TOPIC_ARN",
            )
            if not env.get(name)
        ]
        if missing:
            raise ConfigurationError(f"the heartbeat needs {', '.join(missing)}")
        return cls(
            # The stack's rules: generated with the code (declared.OWN_RULES); a test or a demo may name others.
            rules=tuple(name.strip() for name in env.get("IAMWARDEN_OWN_RULES", "").split(",") if name.strip())
            or tuple(sorted(declared.OWN_RULES)),
            enforcer_arn=env["IAMWARDEN_ENFORCER_ARN"],
            central_bus_arn=env["IAMWARDEN_CENTRAL_BUS_ARN"],
            enforcer_role_name=env["IAMWARDEN_ENFORCER_ROLE_NAME"],
            topic_arn=env["IAMWARDEN_ALERT_TOPIC_ARN"],
            stack_name=env.get("IAMWARDEN_STACK_NAME") or "iamwarden",
            audit_table=env.get("IAMWARDEN_AUDIT_TABLE") or None,
            account=env.get("IAMWARDEN_HOME_ACCOUNT") or None,
            region=env.get("AWS_REGION") or None,
            own_roles=_own_role_names(env.get("IAMWARDEN_OWN_ROLE_ARNS", "")),
            member_roles=_member_role_names(env.get("IAMWARDEN_MEMBER_ROLE_NAMES", "")),
            member_role_kinds=_member_role_kinds(env.get("IAMWARDEN_MEMBER_ROLE_NAMES", "")),
            enforcer_policy_arns=tuple(
                arn.strip() for arn in env.get("IAMWARDEN_ENFORCER_POLICY_ARNS", "").split(",") if arn.strip()
            ),
            prune_planner_arn=env.get("IAMWARDEN_PRUNE_PLANNER_ARN") or None,
            prune_watch_arn=env.get("IAMWARDEN_PRUNE_WATCH_ARN") or None,
            exception_watch_arn=env.get("IAMWARDEN_EXCEPTION_WATCH_ARN") or None,
            member_snapshot_role=env.get("IAMWARDEN_SNAPSHOT_ROLE_NAME") or None,
            settings_prefix=env.get("IAMWARDEN_SETTINGS_PREFIX") or None,
            forwarder_role_arn=env.get("IAMWARDEN_FORWARDER_ROLE_ARN") or None,
            organization_id=env.get("IAMWARDEN_ORGANIZATION_ID") or None,
            alert_key_arn=env.get("IAMWARDEN_ALERT_KEY_ARN") or None,
            own_role_arns=_own_role_arns(env.get("IAMWARDEN_OWN_ROLE_ARNS", "")),
            own=own_identity_from_environment(env) if env.get("IAMWARDEN_HOME_ACCOUNT") else None,
            dead_letter_queue_url=env.get("IAMWARDEN_DEAD_LETTER_QUEUE_URL") or None,
            dead_letter_queue_arn=env.get("IAMWARDEN_DEAD_LETTER_QUEUE_ARN") or None,
            fallback_topic_arn=env.get("IAMWARDEN_ALERT_FALLBACK_TOPIC_ARN") or None,
            shared_environment=tuple(
                sorted((name, env[name]) for name in declared.SHARED_ENVIRONMENT if env.get(name) is not None)
            ),
            user_remediation=env.get("IAMWARDEN_USER_REMEDIATION") or "quarantine",
            exceptions_table=env.get("IAMWARDEN_EXCEPTIONS_TABLE") or None,
        )


def _own_role_arns(text: str) -> tuple[tuple[str, str], ...]:
    try:
        return tuple(sorted(parse_own_roles(text).items()))
    except ValueError as exc:
        raise ConfigurationError(f"IAMWARDEN_OWN_ROLE_ARNS: {exc}") from exc


def _own_role_names(text: str) -> tuple[str, ...]:
    try:
        return tuple(arn.rsplit("/", 1)[-1] for arn in parse_own_roles(text).values())
    except ValueError as exc:
        raise ConfigurationError(f"IAMWARDEN_OWN_ROLE_ARNS: {exc}") from exc


def _member_role_names(text: str) -> tuple[str, ...]:
    """The member stack's roles to snapshot: the exact names (a region-named role, the member forwarder, has one
    per stack instance and no snapshot: its changes are alerted with what is missing)."""
    try:
        names = parse_own_roles(text).values()
    except ValueError as exc:
        raise ConfigurationError(f"IAMWARDEN_MEMBER_ROLE_NAMES: {exc}") from exc
    return tuple(name for name in names if REGION_PLACEHOLDER not in name)


def _member_role_kinds(text: str) -> tuple[tuple[str, str], ...]:
    try:
        return tuple(parse_own_roles(text).items())
    except ValueError as exc:
        raise ConfigurationError(f"IAMWARDEN_MEMBER_ROLE_NAMES: {exc}") from exc


class SnapshotStore(Protocol):
    def put_all(self, snapshots: Iterable[Snapshot]) -> int: ...


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def once[T](read: Callable[[], T]) -> Callable[[], T]:
    """``read`` done at most once: each call gets its answer, or raises the error it raised (so each user of a
    shared read says in its own words that it failed, as when each read for itself)."""
    done: list[tuple[T | None, Exception | None]] = []

    def answer() -> T:
        if not done:
            try:
                done.append((read(), None))
            except Exception as exc:
                done.append((None, exc))
        value, error = done[0]
        if error is not None:
            raise error
        return value  # type: ignore[return-value]

    return answer


class RunReads:
    """What one heartbeat run reads once and hands to every check that needs it: the central bus's description
    (its policy and its key) and the alert topic's subscriptions (confirmed ones, and their snapshots). The first
    user reads with its client; the others get that answer (or its error)."""

    def __init__(self) -> None:
        self._reads: dict[tuple[str, str], Callable[[], Any]] = {}

    def central_bus(self, events: Any, name: str) -> Any:
        """``DescribeEventBus`` of ``name``, read once this run."""
        return self._once(("bus", name), lambda: events.describe_event_bus(Name=name))

    def subscriptions(self, sns: Any, topic_arn: str) -> list[dict[str, Any]]:
        """Every subscription of ``topic_arn`` (``list_topic_subscriptions``), read once this run."""
        listed: list[dict[str, Any]] = self._once(
            ("subscriptions", topic_arn), lambda: list_topic_subscriptions(sns, topic_arn)
        )
        return listed

    def _once(self, key: tuple[str, str], read: Callable[[], Any]) -> Any:
        if key not in self._reads:
            self._reads[key] = once(read)
        return self._reads[key]()


class SnapshotRefresh:
    """Takes the trail and boundary snapshots of one account and region and stores them (each kind on its own)."""

    def __init__(
        self,
        store: SnapshotStore,
        cloudtrail: Any,
        iam: Any,
        account: str,
        *,
        region: str,
        own_roles: tuple[str, ...] = (),
        clock: Callable[[], str] = _now,
        cloudtrail_in: Callable[[str], Any] | None = None,
        sns: Any = None,
        topic_arn: str | None = None,
        home_account: str | None = None,
        own: OwnIdentity | None = None,
        stack_role_ids: frozenset[str] | None = None,
        stack_roles: frozenset[str] = frozenset(),
        public_access_blocks: PublicAccessBlockSeed | None = None,
        service_client: Callable[[str], Any] | None = None,
        service_client_in: Callable[[str, str], Any] | None = None,
    ) -> None:
        self.store = store
        #: ``(service, region) -> client`` of this account there: the GuardDuty detector and AWS Config recorders
        #: of each region a trail of this account is homed in (``refresh_trails_elsewhere``'s regions) are
        #: snapshotted there too, each region on its own; None: the heartbeat's region only.
        self.service_client_in = service_client_in
        #: ``service -> client`` of this account and region (``guardduty``, ``config``): the region's GuardDuty
        #: detector and AWS Config recorders are snapshotted for their re-creation (issue 15 item 3); None: not taken.
        self.service_client = service_client
        #: Reads the account's and (in turn) its buckets' Block Public Access for the rule's records; None: not read.
        self.public_access_blocks = public_access_blocks
        self.own_roles = own_roles
        #: The RoleIds the account's member stack gave its roles (``stack_role_ids``, from its IAM-region forwarding
        #: rule); an own role with another is not the stack's and never snapshotted. None: not known here.
        self.stack_role_ids = stack_role_ids
        #: The names of the roles whose RoleIds that rule names (the remediator's and the member pruner's).
        self.stack_roles = stack_roles
        #: IAM Warden's identity (its roles by kind, its alert key): each own role's inline policies are compared with
        #: the documents the template declares (``declared_inline_policy``); None: not compared.
        self.own = own
        #: The security account: the only one an own role's trust may let in (``admits_only_the_stack``).
        self.home_account = home_account or account
        #: The alert topic and an SNS client: its subscriptions' delivery attributes are snapshotted (security
        #: account only; None: not taken).
        self.sns = sns
        self.topic_arn = topic_arn
        #: The own roles found replaced (another RoleId than first read) in the last refresh.
        self.replaced_roles: list[str] = []
        #: ``region -> cloudtrail client`` of this account there: the trails homed in other regions are taken
        #: there too (their changes arrive in their home region, and are restored there); None: this region only.
        self.cloudtrail_in = cloudtrail_in
        self.cloudtrail = cloudtrail
        self.iam = iam
        self.account = account
        self.region = region
        self.clock = clock

    def _quarantined(self) -> Callable[[str], bool] | None:
        """Whether a principal's ``AWSDenyAll`` is a quarantine's in force, from the audit table the snapshots go to
        (review s12 F6); None when the store keeps no remediations."""
        remediations = getattr(self.store, "remediations", None)
        if remediations is None:
            return None
        return lambda arn: quarantine_boundary_in_force(remediations, arn)

    def refresh(
        self, *, listed_subscriptions: Callable[[Any, str], list[dict[str, Any]]] | None = None
    ) -> tuple[int, list[str]]:
        """How many snapshots were stored, and what could not be refreshed (one failure does not stop the other).

        The account's authorization details are paged through once, for the boundaries and the trusts both;
        ``listed_subscriptions`` answers the alert topic's listing where the run has read it already
        (``RunReads``)."""
        now = self.clock()
        details = once(lambda: read_authorization_details(self.iam))
        takers: tuple[tuple[str, Callable[[], list[Snapshot]]], ...] = (
            ("trails", lambda: take_trail_snapshots(self.cloudtrail, self.account, self.region, now)),
            (
                "permissions boundaries",
                lambda: take_boundary_snapshots(
                    self.iam, self.account, now, pages=details(), quarantined=self._quarantined()
                ),
            ),
            ("role trust policies", lambda: take_trust_snapshots(self.iam, self.account, now, pages=details())),
            (
                "attachments and group memberships",
                lambda: take_attachment_snapshots(self.iam, self.account, now, pages=details()),
            ),
            ("identity providers", lambda: take_identity_provider_snapshots(self.iam, self.account, now)),
            (
                "own roles",
                lambda: self.same_roles(take_own_role_snapshots(self.iam, self.own_roles, self.account, now)),
            ),
        )
        if self.service_client is not None:
            client, account, region = self.service_client, self.account, self.region
            takers += (
                ("GuardDuty detector", lambda: take_detector_snapshots(client("guardduty"), account, region, now)),
                ("AWS Config recorders", lambda: take_recorder_snapshots(client("config"), account, region, now)),
            )
        if self.sns is not None and self.topic_arn:
            sns, topic = self.sns, self.topic_arn
            takers += (
                (
                    "alert topic's subscriptions",
                    lambda: take_subscription_snapshots(sns, topic, now, listed=listed_subscriptions),
                ),
            )
        takers += self._public_access_block_takers()
        self.replaced_roles = []
        stored, problems = self._taken(takers)
        elsewhere, failures = self.refresh_trails_elsewhere(now)
        return stored + elsewhere, problems + self.replaced_roles + failures

    def refresh_public_access_blocks(self) -> tuple[int, list[str]]:
        """Only the Block Public Access reads, as ``refresh`` takes them: a member account's, read after every
        member account's other snapshots so that they never push those to a later run (review bpamember-s14 F2)."""
        return self._taken(self._public_access_block_takers())

    def _taken(self, takers: Iterable[tuple[str, Callable[[], list[Snapshot]]]]) -> tuple[int, list[str]]:
        """Each taker's snapshots stored; one failing is a problem naming it, and the others are still taken."""
        stored, problems = 0, []
        for what, take in takers:
            try:
                started = self.clock()
                taken = take()
                # Dated when the read ended, not when the run began: a change made while the account was being read
                # may show in it, and a record dated before that change would pass it for what was there before.
                read_at = self.clock()
                stored += self._store([snapshot._replace(taken_at=read_at) for snapshot in taken], started)
            except Exception as exc:
                problems.append(
                    f"the snapshots of the {what} of {self.account} in {self.region} cannot be refreshed "
                    f"({error_code(exc) or exc}): a restore falls back to the previous one, or only alerts"
                )
        return stored, problems

    def _public_access_block_takers(self) -> tuple[tuple[str, Callable[[], list[Snapshot]]], ...]:
        """The account's Block Public Access and this turn's buckets' (``app.public_access_seed``), when read."""
        seed = self.public_access_blocks
        if seed is None:
            return ()
        return (
            ("account Block Public Access", seed.take_account),
            ("buckets' Block Public Access", seed.take_buckets),
        )

    def _store(self, snapshots: list[Snapshot], started: str = "") -> int:
        """Store ``snapshots``; an ``ATTACHMENTS`` record only where none taken later is stored (the enforcer keeps
        one from each attach call it judges: this run's read may be older than that). A ``PUBLIC_ACCESS_BLOCK`` read
        only fills a gap (``public_access_seed.is_gap``): it never replaces the enforcer's record, which may be the
        "before" of a turn-off whose event is still in flight (review pab-s13 F1)."""
        seed = self.public_access_blocks
        if seed is not None and isinstance(self.store, FillsSnapshots):
            gaps = [s for s in snapshots if s.kind == PUBLIC_ACCESS_BLOCK]
            if gaps:
                store, now, days = self.store, self.clock(), seed.max_age_days()
                filled = sum(
                    1
                    for snapshot in gaps
                    if store.fill(snapshot, lambda existing: is_gap(existing, started, now, days))
                )
                return filled + self._store([s for s in snapshots if s.kind != PUBLIC_ACCESS_BLOCK])
        kept = [s for s in snapshots if s.kind in _KEPT_IF_NEWEST]
        if kept and isinstance(self.store, KeepsSnapshots):
            return self.store.put_all(s for s in snapshots if s.kind not in _KEPT_IF_NEWEST) + sum(
                1 for snapshot in kept if self.store.keep(snapshot)
            )
        return self.store.put_all(snapshots)

    def same_roles(self, snapshots: list[Snapshot]) -> list[Snapshot]:
        """The own roles' snapshots but those of a role that is no longer the one first read (another RoleId).

        A role's ``RoleId`` is how a member role is known (``OwnIdentity.own_session``): a role deleted and created
        again under its name has another, and taking its snapshot would make it IAM Warden's. Its snapshot stays
        the first one, and the heartbeat says so, until an operator deletes that snapshot (after a redeploy that
        replaced the role). Nor is a role whose trust lets in more than the stack's does (``admits_only_the_stack``):
        a snapshot is a restore's known good state, and that trust may be an intruder's (audit s7 gap 1).
        """
        read = getattr(self.store, "snapshot", None)
        kept = []
        rule_ids = self.stack_role_ids or frozenset()
        live = {
            snapshot.resource_arn.rsplit("/", 1)[-1]: str(snapshot.data.get("role_id"))
            for snapshot in snapshots
            if snapshot.resource_arn.rsplit("/", 1)[-1] in self.stack_roles
        }
        # Only with every stack role read now: a role not read this run leaves its RoleId unknown, not foreign.
        foreign = sorted(rule_ids - set(live.values())) if set(live) == self.stack_roles else []
        if foreign:
            # Review s10 F4: the rule is the member account's, so its RoleIds are checked, never taken as proof.
            self.replaced_roles.append(
                f"the member stack's forwarding rule {STACK_ROLE_ID_RULE} leaves out the iamwarden sessions of RoleIds "
                f"that are no current member role of IAM Warden's ({', '.join(foreign)}): the rule was edited "
                "(tampering), and the regional rules may be too; that role's calls are not forwarded. Update the "
                "member stack there to put its rules back"
            )
        for snapshot in snapshots:
            before = read(OWN_ROLE, snapshot.resource_arn) if read is not None else None
            known = before.data.get("role_id") if before is not None else None
            now = snapshot.data.get("role_id")
            named = snapshot.resource_arn.rsplit("/", 1)[-1] in self.stack_roles
            if named and rule_ids and now not in rule_ids:
                if isinstance(known, str) and known == now:
                    # The role is the one first read: the rule is what changed, and the role stays snapshotted.
                    self.replaced_roles.append(
                        f"the member stack's forwarding rule {STACK_ROLE_ID_RULE} no longer names role "
                        f"{snapshot.resource_arn} (RoleId {now}, the one IAM Warden first read; the rule names "
                        f"{', '.join(sorted(rule_ids))}): the rule was edited (tampering); update the member stack "
                        "there to put its rules back"
                    )
                else:
                    # No RoleId of its own to tell which changed: never snapshotted on a guess, never deleted.
                    self.replaced_roles.append(
                        f"role {snapshot.resource_arn} (RoleId {now}) is not the one its member stack's forwarding "
                        f"rule {STACK_ROLE_ID_RULE} names ({', '.join(sorted(rule_ids))}): either the rule was edited "
                        "(tampering) or the role was deleted and created again by someone else; which is not known, "
                        "so the role is not snapshotted as IAM Warden's. Do not delete the role on this alone: compare "
                        "its CreateDate with the member stack's, and update the member stack there (it puts the "
                        "rules back, and creates the role if it is gone)"
                    )
                    continue
            if isinstance(known, str) and known and now != known:
                self.replaced_roles.append(
                    f"role {snapshot.resource_arn} is not the one IAM Warden knows (RoleId {now}, not {known}): it was "
                    "deleted and created again, so IAM Warden judges its calls like anyone's and keeps its snapshot "
                    "of the old one; if its stack replaced it, delete the audit table's item remediation_id "
                    f"{snapshot_key(OWN_ROLE, snapshot.resource_arn)}"
                )
                continue
            if not admits_only_the_stack(snapshot.data.get("trust_policy"), self.home_account):
                kept_at = f"its snapshot of {before.taken_at} is kept" if before is not None else "no snapshot is taken"
                self.replaced_roles.append(
                    f"role {snapshot.resource_arn} has a trust policy that lets in more than IAM Warden's security "
                    f"account {self.home_account}: it is not snapshotted as a good state ({kept_at}), so a restore "
                    "never puts that trust back; put the role's trust back by redeploying its stack"
                )
                continue
            self.replaced_roles.extend(self.inline_differences(snapshot))
            self.replaced_roles.extend(self.boundary_difference(snapshot))
            kept.append(snapshot)
        return kept

    def boundary_difference(self, snapshot: Snapshot) -> list[str]:
        """A permissions boundary on an own role of the security account, in words: template.yaml gives its roles
        none, and a deny-all one (``AWSDenyAll``) silences the role whatever its policies say (review s10 finding 8:
        a change the enforcer did not see, such as one under a name in another case before the route matched it)."""
        own, boundary = self.own, snapshot.data.get("boundary")
        if own is None or not boundary or self.account != own.home_account:
            return []
        role = snapshot.resource_arn.rsplit("/", 1)[-1]
        return [
            f"IAM Warden's role {role} has a permissions boundary its template does not give it ({boundary}): what "
            f"the boundary does not allow, the role cannot do (delete it: aws iam delete-role-permissions-boundary "
            f"--role-name {role}; or put the role back: {own.redeploy_command()})"
        ]

    def inline_differences(self, snapshot: Snapshot) -> list[str]:
        """How an own role's inline policies differ from what template.yaml declares (one it does not declare at
        all, or a declared document written over), in words. What the template does not declare whole is not
        compared: its restore rests on the snapshot."""
        own, inline = self.own, snapshot.data.get("inline")
        if own is None or not isinstance(inline, Mapping) or self.account != own.home_account:
            return []
        role, partition = snapshot.resource_arn.rsplit("/", 1)[-1], snapshot.resource_arn.split(":")[1]
        fix = own.redeploy_command()
        found = []
        for name, document in sorted(inline.items()):
            template = declared_inline_policy(own, role, name, partition)
            if template is None:
                continue
            if not template.named:
                found.append(
                    f"IAM Warden's role {role} has an inline policy {name} its template does not declare: whatever it "
                    f"grants or denies is not IAM Warden's (delete it, or put the role back: {fix})"
                )
            elif template.document is not None and canonical(document) != canonical(template.document):
                found.append(
                    f"the inline policy {name} of IAM Warden's role {role} is not the document its template declares "
                    f"(put it back: {fix})"
                )
        return found

    def refresh_trails_elsewhere(self, now: str) -> tuple[int, list[str]]:
        """The trails homed in the other regions this account's multi-region trails name, each in its home region.

        Each region is taken on its own: one that cannot be read is one problem, and keeps its earlier snapshots.
        """
        if self.cloudtrail_in is None:
            return 0, []
        try:
            regions = trail_home_regions(self.cloudtrail, self.account, self.region)
        except Exception as exc:
            return 0, [
                f"the trails of {self.account} homed in other regions than {self.region} cannot be listed "
                f"({error_code(exc) or exc}): their restores fall back to the previous snapshots, or only alert"
            ]
        stored, problems = 0, []
        for region in regions:
            try:
                stored += self.store.put_all(
                    take_trail_snapshots(self.cloudtrail_in(region), self.account, region, now)
                )
            except Exception as exc:
                problems.append(
                    f"the snapshots of the trails of {self.account} in {region} cannot be refreshed "
                    f"({error_code(exc) or exc}): a restore falls back to the previous one, or only alerts"
                )
            count, failures = self.refresh_detection_in(region, now)
            stored, problems = stored + count, problems + failures
        return stored, problems

    def refresh_detection_in(self, region: str, now: str) -> tuple[int, list[str]]:
        """The detector and recorders of this account in ``region`` (``take_detection_in``); none without
        ``service_client_in``."""
        regional = self.service_client_in
        if regional is None:
            return 0, []
        return take_detection_in(self.store, lambda service: regional(service, region), self.account, region, now)


def take_detection_in(
    store: SnapshotStore, client: Callable[[str], Any], account: str, region: str, now: str
) -> tuple[int, list[str]]:
    """The GuardDuty detector and AWS Config recorders of ``account`` in ``region`` snapshotted there (issue 15
    item 3: both are per-region services, re-created in the event's region from its ARN-keyed snapshot). Each is
    taken on its own: one that cannot be read is a problem naming the region, keeps its earlier snapshot, and
    never stops the other nor the other regions."""
    takers: tuple[tuple[str, Callable[[], list[Snapshot]]], ...] = (
        ("GuardDuty detector", lambda: take_detector_snapshots(client("guardduty"), account, region, now)),
        ("AWS Config recorders", lambda: take_recorder_snapshots(client("config"), account, region, now)),
    )
    stored, problems = 0, []
    for what, take in takers:
        try:
            stored += store.put_all(take())
        except Exception as exc:
            problems.append(
                f"the snapshots of the {what} of {account} in {region} cannot be refreshed "
                f"({error_code(exc) or exc}): a restore falls back to the previous one, or only alerts"
            )
    return stored, problems


class DeclaredRoute(NamedTuple):
    """An EventBridge rule as its template declares it, and how ``route_problems`` names each difference."""

    #: The rule as a problem names it ("the rule iamwarden-central/...", "the forwarding rule ...").
    what: str
    #: The template that declares it ("the template", "the member template").
    template: str
    #: The ARN of its one target; None: only its state (and pattern) are checked.
    target: str | None = None
    #: How "no longer targets" names the target (None: by its ARN).
    target_named: str | None = None
    #: The role the target must use; None: not compared.
    role: str | None = None
    #: Whether the pattern is compared, and the declared one (None: not known, so whatever the rule has differs).
    pattern_compared: bool = False
    pattern: Any = None
    #: What a deleted rule means, after "is gone".
    gone: str = ""
    #: More checks of the rule as described (the own rules' pattern and schedule against the template's).
    content_problems: Callable[[Mapping[str, Any]], list[str]] | None = None


def route_problems(events: Any, name: str, bus: str, declared_route: DeclaredRoute) -> list[str]:
    """What differs between rule ``name`` (on ``bus``, "" for the default) and its declaration: gone, not enabled,
    another pattern, its target missing, another target, the event not passed on unchanged (an
    ``Input``/``InputPath``/``InputTransformer`` silences the rule while it stays enabled), another role."""
    what, template = declared_route.what, declared_route.template
    try:
        rule = events.describe_rule(Name=name, **_bus(bus))
    except Exception as exc:
        if is_gone(exc):
            return [f"{what} is gone{declared_route.gone}"]
        return [f"{what} cannot be read ({error_code(exc) or exc})"]
    problems = []
    if rule.get("State") != "ENABLED":
        problems.append(f"{what} is {str(rule.get('State', 'not enabled')).lower()}")
    if declared_route.pattern_compared:
        try:
            pattern = json.loads(rule.get("EventPattern") or "null")
        except ValueError:
            pattern = None
        if declared_route.pattern is None or not pattern_matches(declared_route.pattern, pattern):
            problems.append(f"{what} has another pattern than {template} declares")
    if declared_route.content_problems is not None:
        problems.extend(declared_route.content_problems(rule))
    expected = declared_route.target
    if expected is None:
        return problems
    targets = events.list_targets_by_rule(Rule=name, **_bus(bus)).get("Targets", [])
    if expected not in [target.get("Arn") for target in targets]:
        problems.append(f"{what} no longer targets {declared_route.target_named or expected}")
    for target in targets:
        arn, target_id = target.get("Arn"), target.get("Id")
        named = f" (target {target_id})" if target_id else ""
        if arn != expected:
            problems.append(f"{what} also targets {arn}{named}, which its template does not")
            continue
        if overridden := [field for field in ("Input", "InputPath", "InputTransformer") if target.get(field)]:
            problems.append(
                f"{what} passes {'/'.join(overridden)} instead of the event{named}: what it routes never reaches "
                "IAM Warden as it happened"
            )
        role = declared_route.role
        if role is not None and target.get("RoleArn") != role:
            problems.append(
                f"{what} forwards through {target.get('RoleArn') or 'no role'}, not {template}'s {role}{named}"
            )
    return problems


#: How far back the heartbeat reads the forwarding rules' failures: two runs' worth, so each failure is seen twice.
FAILED_INVOCATIONS_WINDOW = timedelta(minutes=10)


def _document(value: Any) -> Any:
    """A policy document as IAM answers it: parsed already (boto3), or URL-encoded JSON (the raw API)."""
    if isinstance(value, str):
        return json.loads(urllib.parse.unquote(value))
    return value


def forwarder_role_problems(iam: Any, role_name: str, declared_role: DeclaredRole, what: str, fix: str) -> list[str]:
    """What differs between forwarding role ``role_name`` and its declaration (audit s7 gap 17): another trust, an
    inline policy added (a Deny on ``events:PutEvents``), gone or changed, a managed policy attached, a boundary.

    Every forwarding rule's target puts events on the central bus as this role: a change to it cuts the path the
    event of that very change travels, so only this comparison sees it. A role that cannot be read is a problem too.
    """
    try:
        role = iam.get_role(RoleName=role_name)["Role"]
        names = [
            name
            for page in iam.get_paginator("list_role_policies").paginate(RoleName=role_name)
            for name in page.get("PolicyNames", [])
        ]
        inline = {
            name: _document(iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"])
            for name in names
        }
        attached = [
            policy["PolicyArn"]
            for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role_name)
            for policy in page.get("AttachedPolicies", [])
        ]
    except Exception as exc:
        if is_gone(exc):
            return [f"{what} is gone: no event reaches the central bus through it ({fix})"]
        return [
            f"{what} cannot be read ({error_code(exc) or exc}): whether events still reach the central bus through "
            "it is not known"
        ]
    differences = []
    if canonical(_document(role.get("AssumeRolePolicyDocument"))) != canonical(declared_role.trust):
        differences.append("another trust policy")
    if extra := sorted(set(inline) - set(declared_role.inline)):
        differences.append(f"inline policies its template does not declare ({', '.join(extra)})")
    if missing := sorted(set(declared_role.inline) - set(inline)):
        differences.append(f"no inline policy {', '.join(missing)}")
    if changed := sorted(
        name
        for name in set(inline) & set(declared_role.inline)
        if canonical(inline[name]) != canonical(declared_role.inline[name])
    ):
        differences.append(f"another document in its inline policy {', '.join(changed)}")
    if extra_attached := sorted(set(attached) - set(declared_role.managed)):
        differences.append(f"managed policies its template does not attach ({', '.join(extra_attached)})")
    boundary = (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
    if boundary != declared_role.boundary:
        differences.append(f"the permissions boundary {boundary}" if boundary else "no permissions boundary")
    if not differences:
        return []
    return [
        f"{what} has {'; '.join(differences)}, unlike its template: EventBridge may no longer put events on the "
        f"central bus through it, and the event of that change travels the same path (put it back: {fix})"
    ]


def failed_invocation_problems(
    cloudwatch: Any, rules: Sequence[str], account: str, now: datetime, fix: str
) -> list[str]:
    """The forwarding rules of ``account`` whose invocations failed for good in the last 10 minutes (``AWS/Events``
    ``FailedInvocations`` by ``RuleName``: the default bus's rules), one ``GetMetricData`` for them all.

    The one signal that covers every way of breaking the path to the central bus (the role, the bus's policy or
    key, a quota): anything above 0 is a problem. EventBridge sends the metric only when it is not 0, so no data
    is none failed. A read that is refused is a problem, never silence.
    """
    if not rules:
        return []
    queries = [
        {
            "Id": f"rule{number}",
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/Events",
                    "MetricName": "FailedInvocations",
                    "Dimensions": [{"Name": "RuleName", "Value": rule}],
                },
                "Period": 60,
                "Stat": "Sum",
            },
        }
        for number, rule in enumerate(rules)
    ]
    failed: dict[str, float] = {}
    try:
        for page in cloudwatch.get_paginator("get_metric_data").paginate(
            MetricDataQueries=queries, StartTime=now - FAILED_INVOCATIONS_WINDOW, EndTime=now
        ):
            for result in page.get("MetricDataResults", []):
                rule = rules[int(str(result["Id"]).removeprefix("rule"))]
                failed[rule] = failed.get(rule, 0.0) + sum(float(value) for value in result.get("Values", []))
    except Exception as exc:
        return [
            f"the forwarding failures of account {account} cannot be read ({error_code(exc) or exc}): whether its "
            "events reach the central bus is not known"
        ]
    return [
        f"the forwarding rule {rule} of account {account} failed {count:g} invocation(s) in the last 10 minutes: "
        f"events from account {account} are failing to reach the central bus (its forwarding role, the bus's policy "
        f"or key; put them back: {fix})"
        for rule, count in sorted(failed.items())
        if count > 0
    ]


#: Where IAM's (and Organizations') events arrive: the member stack forwards them from this region only
#: (``iamwarden-forward-iam``, its condition ``InIamRegion``; ``IamRegion`` defaults to it).
IAM_REGION = "us-east-1"
#: The member stack's role names the forwarding patterns are checked with where ``IAMWARDEN_MEMBER_ROLE_NAMES`` does
#: not name them (the member template's defaults of ``MemberRoleName`` and ``PrunerMemberRoleName``).
MEMBER_ROLE_DEFAULTS: Mapping[str, str] = MappingProxyType(
    {"remediator": "iamwarden-remediator", "pruner-member": "iamwarden-pruner-member"}
)
#: The member template's default ``MemberStackSetName`` (README "AWS Organizations").
MEMBER_STACK_SET_DEFAULT = "iamwarden-member"
#: The target id the member template gives each forwarding rule's one target.
MEMBER_TARGET_ID = "central-bus"


class MemberForwarding:
    """Checks a member account's forwarding rules against the member template: each exists, is enabled, has the
    declared pattern, and has exactly the declared target (the central bus, through the member forwarder role of
    that account and region, the event passed on unchanged).

    Read through the account's ``iamwarden-snapshot-reader`` role (``events:DescribeRule`` and
    ``events:ListTargetsByRule`` on the four rules). Each problem names the StackSet command that puts it back.
    """

    def __init__(
        self,
        central_bus_arn: str,
        region: str,
        home_account: str,
        member_roles: Mapping[str, str],
        stack_set_name: str | None = None,
    ) -> None:
        self.central_bus_arn = central_bus_arn
        self.region = region
        #: The member StackSet's name (the guard rules forward its instance's operations by it): the template's
        #: default where ``IAMWARDEN_MEMBER_STACK_SET`` does not name it.
        self.own = OwnIdentity(home_account=home_account, stack_set_name=stack_set_name or MEMBER_STACK_SET_DEFAULT)
        #: kind -> name of the member stack's roles (``IAMWARDEN_MEMBER_ROLE_NAMES``): the patterns name two.
        self.member_roles = member_roles

    def in_region(self, region: str) -> MemberForwarding:
        """The same check of the member stack instance in ``region`` (its rules, its forwarder role there)."""
        other = copy.copy(self)
        other.region = region
        return other

    def rules(self) -> list[str]:
        """The member stack's rules in its region (the IAM forwarder only where IAM's events arrive)."""
        names = sorted(declared.MEMBER_RULE_PATTERNS)
        return names if self.region == IAM_REGION else [n for n in names if n != "iamwarden-forward-iam"]

    def declared_pattern(self, rule: str, account: str, partition: str) -> Any:
        """Rule ``rule``'s pattern as the member template declares it for ``account``, or None where it names
        something not known (then it differs from whatever the rule has)."""
        own = self.own._replace(member_roles={**MEMBER_ROLE_DEFAULTS, **self.member_roles})
        text = fill(declared.MEMBER_RULE_PATTERNS[rule], own, partition, self.region, account)
        return json.loads(text) if text is not None else None

    def problems(self, account: str, events: Any, role_ids: frozenset[str] | None = None) -> list[str]:
        """What is missing or changed in ``account``'s forwarding, each with the way back; empty when whole.

        ``role_ids``: the RoleIds of the account's member roles as the heartbeat first read them (``own-role``
        snapshots): a rule leaving out the ``iamwarden`` sessions of any other RoleId was edited (review s10 F4: the
        declared pattern accepts any ``ARO…`` id there). None or empty: not compared (nothing read yet)."""
        partition = self.central_bus_arn.split(":")[1] if self.central_bus_arn.startswith("arn:") else "aws"
        fix = self.own.redeploy_command(account, self.region)
        problems: list[str] = []
        read = _RulesRead(events)
        for rule in self.rules():
            found = [f"{what} ({fix})" for what in self._rule_problems(account, read, rule, partition)]
            foreign = sorted((stack_role_ids(read.patterns.get(rule)) or frozenset()) - (role_ids or frozenset()))
            if role_ids and foreign:
                found.append(
                    f"the forwarding rule {rule} in {self.region} leaves out the iamwarden sessions of RoleIds that "
                    f"are no member role of IAM Warden's ({', '.join(foreign)}): the rule was edited (tampering), and "
                    f"that role's calls there are not forwarded ({fix})"
                )
            problems.extend(f"in member account {account}, {problem}" for problem in found)
        return problems

    def role_name(self) -> str:
        """The member forwarder role every forwarding rule in this region targets the central bus through."""
        return f"iamwarden-member-forwarder-{self.region}"

    def path_problems(self, account: str, iam: Any, cloudwatch: Any | None, now: datetime) -> list[str]:
        """The member forwarder role against the member template, and the forwarding rules' failures (gap 17)."""
        partition = self.central_bus_arn.split(":")[1] if self.central_bus_arn.startswith("arn:") else "aws"
        fix = self.own.redeploy_command(account, self.region)
        own = self.own._replace(home_region=_region_of(self.central_bus_arn, self.region))
        declared_role = declared_forwarder_role("member-forwarder", own, partition, self.region, account)
        problems = []
        if declared_role is not None:
            what = f"in member account {account}, the forwarder role {self.role_name()}"
            problems += forwarder_role_problems(iam, self.role_name(), declared_role, what, fix)
        if cloudwatch is not None:
            problems += failed_invocation_problems(cloudwatch, self.rules(), account, now, fix)
        return problems

    def _rule_problems(self, account: str, events: Any, rule: str, partition: str) -> list[str]:
        declared_route = DeclaredRoute(
            what=f"the forwarding rule {rule}",
            template="the member template",
            target=self.central_bus_arn,
            target_named=f"the central bus {self.central_bus_arn}",
            role=f"arn:{partition}:iam::{account}:role/{self.role_name()}",
            pattern_compared=True,
            pattern=self.declared_pattern(rule, account, partition),
            gone=": that account's changes no longer reach IAM Warden",
        )
        return route_problems(events, rule, "", declared_route)


#: At most this many member accounts are snapshotted per run (each is a role assumption and a handful of reads,
#: and the heartbeat has 30 seconds); with more, each run takes the next ones in turn, so every account is
#: refreshed every ``ceil(accounts / MEMBER_ACCOUNTS_PER_RUN)`` runs.
MEMBER_ACCOUNTS_PER_RUN = 10
#: Seconds the member accounts may take a run: the heartbeat's 30-second timeout must leave room for its alert,
#: so the accounts not reached in time wait for a later run (they are not a problem: nothing is broken).
MEMBER_SNAPSHOT_BUDGET_SECONDS = 15.0
#: The id of the Block Public Access cursor (``public_access_seed.CURSOR``) kept for the member accounts' turn: the
#: member account a run began last (no account id: no bucket cursor is kept under it).
MEMBER_CURSOR = "member-accounts"
#: After this many runs in a row that took a member account's snapshots but had no time left for its Block Public
#: Access reads, the heartbeat alerts, naming it (a problem), and again after as many more: its calls are judged
#: without a record meanwhile, which a WARNING log line alone would leave unseen.
MEMBER_DEFERRALS_BEFORE_PROBLEM = 3


#: Snapshot kinds the enforcer keeps too: the heartbeat's read never replaces a later record of a judged event.
_KEPT_IF_NEWEST = frozenset({ATTACHMENTS, PUBLIC_ACCESS_BLOCK})


def _counters(value: Any) -> dict[str, int]:
    """A saved ``account -> counter`` map of the member turn record (DynamoDB answers numbers as ``Decimal``)."""
    if not isinstance(value, Mapping):
        return {}
    return {k: int(v) for k, v in value.items() if isinstance(k, str) and isinstance(v, int | Decimal)}


def _turn() -> int:
    """Which turn this run is (one per 5-minute schedule period): picks the member accounts taken this run."""
    return int(datetime.now(UTC).timestamp() // 300)


class MemberSnapshots:
    """The trail, boundary and own-role snapshots of the managed member accounts, through their snapshot role.

    The member stack's own roles (``own_roles``, at path ``/``) are read there and keyed by that account's ARN of
    each, so ``iamwarden-tampered`` restores a member role's trust or inline policy from its own account's
    snapshot only.

    Bounded: with ``coverage`` (as deployed), the next ``heartbeat/member_checks_per_run`` (account, region) pairs
    after the cursor (``refresh_pairs``); without it, at most ``per_run`` accounts a run, taken in turn, in the
    heartbeat's region. An account that cannot be reached or read is one problem naming it in the heartbeat's alert;
    the other accounts are still taken and the run never fails.
    """

    def __init__(
        self,
        store: SnapshotStore,
        accounts: Callable[[], Iterable[str]],
        clients: Callable[[str], tuple[Any, Any]],
        *,
        home_account: str,
        region: str,
        per_run: int = MEMBER_ACCOUNTS_PER_RUN,
        turn: Callable[[], int] = _turn,
        clock: Callable[[], str] = _now,
        budget_seconds: float = MEMBER_SNAPSHOT_BUDGET_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
        own_roles: tuple[str, ...] = (),
        cloudtrail_in: Callable[[str, str], Any] | None = None,
        forwarding: MemberForwarding | None = None,
        events_in: Callable[[str], Any] | None = None,
        cloudwatch_in: Callable[[str], Any] | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        coverage: MemberCoverage | None = None,
        client_in: Callable[[str, str, str], Any] | None = None,
        public_access_seed: Callable[[str], MemberPublicAccessBlockSeed] | None = None,
    ) -> None:
        self.store = store
        #: ``account -> its Block Public Access reads`` through its snapshot role (``app.public_access_seed``), taken
        #: after every account's snapshots and forwarding (``refresh_public_access_blocks``); None: not read. Each
        #: account keeps its own bucket cursor and reads up to ``per_run`` buckets.
        self.public_access_seed = public_access_seed
        #: account -> what the last refresh's Block Public Access reads there covered (``report()``), or that the
        #: run's time budget did not reach it (``DEFERRED_ACCOUNT``).
        self.public_access_reports: dict[str, dict[str, Any]] = {}
        #: Which (account, region) pairs are watched and in what turn (``app.member_coverage``); None: the accounts
        #: of ``accounts`` in turn, in the heartbeat's region only.
        self.coverage = coverage
        #: ``(service, account, region) -> client`` acting there through the snapshot role (the pairs' checks).
        self.client_in = client_in
        #: What the last refresh covered (``Coverage``), and the accounts whose snapshots and trails it read.
        self.covered: Coverage | None = None
        self.taken: list[str] = []
        #: ``account -> cloudwatch client`` there: the forwarding rules' failures are read (None: not read).
        self.cloudwatch_in = cloudwatch_in
        self.now = now
        #: Checks each member account's forwarding rules (through ``events_in(account)``); None: not checked.
        self.forwarding = forwarding
        self.events_in = events_in
        #: ``(account, region) -> cloudtrail client`` there, for the trails homed in other regions; None: none.
        self.cloudtrail_in = cloudtrail_in
        #: The member stack's role names: their trust and inline policies are snapshotted in each account.
        self.own_roles = own_roles
        self.budget_seconds = budget_seconds
        self.monotonic = monotonic
        #: The accounts the last refresh left for a later run because its time budget was spent.
        self.deferred: list[str] = []
        #: Every member account the last refresh watched (its turn record keeps only these); None: not known this
        #: run, or from a listing that failed (the record is kept as it is).
        self.managed: frozenset[str] | None = None
        #: The managed accounts (the ``managed_accounts`` setting); the security account is snapshotted apart.
        self.accounts = accounts
        #: ``account -> (cloudtrail, iam)`` clients acting in that account.
        self.clients = clients
        self.home_account = home_account
        self.region = region
        self.per_run = per_run
        self.turn = turn
        self.clock = clock

    def chosen(self, accounts: Iterable[str]) -> list[str]:
        """The accounts this run takes: all when they fit, else ``per_run`` of them starting where the turn says."""
        every = sorted(set(accounts) - {self.home_account})
        if len(every) <= self.per_run:
            return every
        start = (self.turn() * self.per_run) % len(every)
        return [every[(start + n) % len(every)] for n in range(self.per_run)]

    def _cloudtrail_in(self, account: str) -> Callable[[str], Any] | None:
        regional = self.cloudtrail_in
        if regional is None:
            return None
        return lambda region: regional(account, region)

    def taken_accounts(self) -> list[str]:
        """The accounts whose snapshots (and trails) this run reads: the last refresh's, or this turn's."""
        return list(self.taken) if self.coverage is not None else self.chosen(self.accounts())

    def refresh(self) -> tuple[int, list[str]]:
        if self.coverage is not None:
            return self.refresh_pairs(self.coverage)
        try:
            every = frozenset(self.accounts()) - {self.home_account}
            accounts = self.chosen(every)
        except Exception as exc:
            return 0, [f"the managed accounts cannot be read ({error_code(exc) or exc}): no member account's snapshots"]
        stored, problems = 0, []
        started = self.monotonic()
        self._begin_run()
        self.managed = every
        for position, account in enumerate(accounts):
            if self.monotonic() - started > self.budget_seconds:
                self.deferred = accounts[position:]
                break
            try:
                cloudtrail, iam = self.clients(account)
            except Exception as exc:
                problems.append(
                    f"the snapshots of account {account} cannot be refreshed: its snapshot role cannot be used "
                    f"({error_code(exc) or exc})"
                )
                continue
            count, failures = self._account_refresh(account, cloudtrail, iam)
            stored += count
            problems += failures
            problems += self.forwarding_problems(account)
            problems += self.path_problems(account, iam)
        return self._with_public_access_blocks(stored, problems, started)

    def refresh_pairs(self, coverage: MemberCoverage) -> tuple[int, list[str]]:
        """This run's turn of the watched (account, region) pairs (``app.member_coverage``): in the heartbeat's
        region an account's snapshots, and which of its enabled regions have no member stack; in each region with a
        member stack instance its forwarding. An account whose snapshot role cannot be assumed is not watched: said.
        """
        self._begin_run()
        self.covered = None
        problems: list[str] = []
        try:
            state = coverage.load()
        except Exception as exc:
            problems.append(
                f"the heartbeat's member coverage record cannot be read ({error_code(exc) or exc}): this run starts "
                "the turn again, and which pairs are overdue is not known"
            )
            state = CoverageState()
        try:
            watched = coverage.watched(state)
            per_run = coverage.settings().member_checks_per_run
        except Exception as exc:
            return 0, [
                *problems,
                f"the member accounts to watch cannot be read ({error_code(exc) or exc}): no member account's "
                "forwarding or snapshots are checked",
            ]
        # Pruned only against a whole listing: one that failed leaves out accounts still watched (review F3).
        self.managed = None if watched.lasting else frozenset(pair.account for pair in watched.pairs)
        now = coverage.now()
        for key, problem in watched.lasting:
            if state.due(key, problem, now):
                problems.append(problem)
                state.said(key, problem, now)
        stored, attempted, checked = 0, [], []
        unreachable: dict[str, str] = {}
        started = self.monotonic()
        pairs = coverage.turn(watched, state, per_run)
        for position, pair in enumerate(pairs):
            if self.monotonic() - started > self.budget_seconds:
                self.deferred = [p.key for p in pairs[position:]]
                break
            attempted.append(pair)
            if pair.account in unreachable:
                continue
            try:
                cloudtrail, iam = self.clients(pair.account)
            except Exception as exc:
                unreachable[pair.account] = why = str(error_code(exc) or exc)
                problems.append(
                    f"member account {pair.account} is not watched: its snapshot role cannot be assumed ({why}), so "
                    "neither its forwarding nor its snapshots are checked (deploy the member stack there, or set "
                    f"accounts/{pair.account}/mode to off to leave it out on purpose)"
                )
                continue
            if pair.region == self.region:
                count, failures = self._account_refresh(pair.account, cloudtrail, iam)
                stored += count
                problems += failures
                problems += self._region_problems(coverage, watched, state, pair.account, now)
            if pair.forwards:
                problems += self._pair_forwarding_problems(pair, iam)
                if pair.region != self.region:
                    # A region whose events reach IAM Warden: its detector and recorders are snapshotted there,
                    # within the same bounded turn (the heartbeat's region's are the account refresh's).
                    count, failures = self._pair_detection(pair)
                    stored, problems = stored + count, problems + failures
            checked.append(pair)
        overdue, self.covered = coverage.finish(watched, state, attempted, checked, per_run)
        problems += overdue
        try:
            coverage.save(state)
        except Exception as exc:
            problems.append(
                f"the heartbeat's member coverage record cannot be written ({error_code(exc) or exc}): the next run "
                "checks the same pairs again"
            )
        return self._with_public_access_blocks(stored, problems, started)

    def _pair_detection(self, pair: Pair) -> tuple[int, list[str]]:
        """The GuardDuty detector and AWS Config recorders of ``pair``'s account in its region, through the snapshot
        role (``take_detection_in``); none without ``client_in``."""
        client_in = self.client_in
        if client_in is None:
            return 0, []
        account, region = pair.account, pair.region
        return take_detection_in(
            self.store, lambda service: client_in(service, account, region), account, region, self.clock()
        )

    def _begin_run(self) -> None:
        """Forget the last refresh's accounts (taken, deferred) and Block Public Access reports: both paths."""
        self.taken, self.deferred = [], []
        self.public_access_reports = {}
        self.managed = None

    def _with_public_access_blocks(self, stored: int, problems: list[str], started: float) -> tuple[int, list[str]]:
        """End a refresh path: the Block Public Access reads of the accounts it took, after its own checks, added to
        what it stored and found (``guarded_public_access_blocks``)."""
        count, failures = self.guarded_public_access_blocks(self.taken, started)
        return stored + count, problems + failures

    def _snapshot_refresh(self, account: str, cloudtrail: Any, iam: Any, **reads: Any) -> SnapshotRefresh:
        """A ``SnapshotRefresh`` of ``account`` in the heartbeat's region; ``reads``: what this one reads there (the
        account's snapshots, or its Block Public Access)."""
        return SnapshotRefresh(
            self.store,
            cloudtrail,
            iam,
            account,
            region=self.region,
            clock=self.clock,
            home_account=self.home_account,
            **reads,
        )

    def _account_refresh(self, account: str, cloudtrail: Any, iam: Any) -> tuple[int, list[str]]:
        self.taken.append(account)
        stack_role_ids, unread = self.stack_role_ids(account)
        client_in, region = self.client_in, self.region
        refresh = self._snapshot_refresh(
            account,
            cloudtrail,
            iam,
            service_client=(lambda service: client_in(service, account, region)) if client_in is not None else None,
            own_roles=self.own_roles,
            cloudtrail_in=self._cloudtrail_in(account),
            stack_role_ids=stack_role_ids,
            stack_roles=self.stack_role_names(),
        )
        stored, problems = refresh.refresh()
        return stored, [*unread, *problems]

    def refresh_public_access_blocks(self, accounts: Sequence[str], started: float) -> tuple[int, list[str]]:
        """The Block Public Access reads of ``accounts`` (those whose snapshots this run took), after every account's
        snapshots and forwarding (issue 15's checks come first: review bpamember-s14 F2), within what is left of the
        member loop's budget (begun at ``started``), at most ``BUDGET_SECONDS``: the heartbeat is no longer than
        without them. The accounts are taken in the order each was last begun, never begun first, oldest next
        (``MEMBER_CURSOR`` keeps when each account was begun, by a counter): that does not depend on which window of
        pairs a run takes (second review R1: one "after" account over windows sent each run back to its window's
        first account), so an account is begun within as many of its window's runs as the window has accounts, and
        one whose reads spend the budget never keeps the others out (F1); one the budget does not reach is named in
        the answer and log (``DEFERRED_ACCOUNT``)."""
        if self.public_access_seed is None or not accounts:
            return 0, []
        left = max(0.0, self.budget_seconds - (self.monotonic() - started))
        deadline = self.monotonic() + min(PUBLIC_ACCESS_BLOCK_BUDGET_SECONDS, left)
        read = self._member_turns()
        turns, deferrals = read if read is not None else ({}, {})
        order = sorted(set(accounts), key=lambda member: (turns.get(member, 0), member))
        stored, problems, begun, deferred = 0, [], list[str](), list[str]()
        for position, account in enumerate(order):
            if self.monotonic() >= deadline:
                deferred = order[position:]
                for later in deferred:
                    self.public_access_reports[later] = {"deferred_account": DEFERRED_ACCOUNT}
                logger.warning(
                    "Block Public Access of member accounts %s not read this run (time budget): they go before "
                    "every account read since, the next time their snapshots are taken",
                    ", ".join(order[position:]),
                )
                break
            begun.append(account)
            try:
                cloudtrail, iam = self.clients(account)
                seed = self.public_access_seed(account)
            except Exception as exc:
                problems.append(
                    f"the Block Public Access of account {account} cannot be read: its snapshot role cannot be used "
                    f"({error_code(exc) or exc})"
                )
                continue
            seed.monotonic, seed.deadline = self.monotonic, deadline  # one clock, one deadline for the run
            refresh = self._snapshot_refresh(account, cloudtrail, iam, public_access_blocks=seed)
            count, failures = refresh.refresh_public_access_blocks()
            stored += count
            problems += failures
            if seed.listed or seed.refused is not None:
                self.public_access_reports[account] = seed.report()
        problems += self._deferral_problems(deferrals, deferred)
        if read is not None and (begun or deferred or self._unmanaged(turns, deferrals)):
            self._save_member_turns(turns, begun, deferrals, deferred)
        return stored, problems

    def _deferral_problems(self, deferrals: Mapping[str, int], deferred: Sequence[str]) -> list[str]:
        """A problem for each account ``deferred`` for the ``MEMBER_DEFERRALS_BEFORE_PROBLEM``-th run in a row (and
        every as many runs after): deferred every time its snapshots are taken, it would never be read."""
        problems = []
        for account in deferred:
            runs = deferrals.get(account, 0) + 1
            if runs % MEMBER_DEFERRALS_BEFORE_PROBLEM == 0:
                problems.append(
                    f"the Block Public Access of member account {account} has not been read for {runs} runs in a row "
                    "that took its snapshots (the heartbeat's time ran out before it): its S3 calls are judged "
                    "without IAM Warden's record of its configuration until it is read; lower "
                    "heartbeat/member_checks_per_run so that each run has time left for it"
                )
        return problems

    def _unmanaged(self, turns: Mapping[str, int], deferrals: Mapping[str, int]) -> bool:
        """Whether the turn record names an account this run knows is no longer watched (pruned when saved)."""
        return self.managed is not None and any(account not in self.managed for account in {*turns, *deferrals})

    def guarded_public_access_blocks(self, accounts: Sequence[str], started: float) -> tuple[int, list[str]]:
        """``refresh_public_access_blocks``, an unexpected error in it one heartbeat problem: it never drops the
        problems the member loop found before it (second review: the guard)."""
        try:
            return self.refresh_public_access_blocks(accounts, started)
        except Exception as exc:
            logger.exception("member Block Public Access reads failed")
            return 0, [f"the member accounts' Block Public Access reads failed ({error_code(exc) or exc})"]

    def _member_turns(self) -> tuple[dict[str, int], dict[str, int]] | None:
        """When each member account's Block Public Access reads were last begun (a counter: higher is later; none
        at first: then the accounts go by id), and how many runs in a row each was deferred. None: the read failed,
        so this run goes by id and saves nothing (saving would replace every turn and count with its empty reading:
        review quarrole-s15 F2)."""
        read = getattr(self.store, "snapshot", None)
        if read is None:
            return {}, {}
        try:
            saved = read(PUBLIC_ACCESS_BLOCK_CURSOR, MEMBER_CURSOR)
        except Exception as exc:
            logger.warning("member Block Public Access turns not read (%s): accounts go by id, nothing saved", exc)
            return None
        data = saved.data if saved is not None else {}
        return _counters(data.get("begun")), _counters(data.get("deferred"))

    def _save_member_turns(
        self, turns: Mapping[str, int], begun: Sequence[str], deferrals: Mapping[str, int], deferred: Sequence[str]
    ) -> None:
        """Mark the accounts this run began as the latest, in the order begun, and count the runs in a row each
        deferred account was left (begun: counted no more); keep only the accounts still watched (``managed``), so
        the record does not grow with accounts long gone. A failed write only orders the next run as this one was
        (logged). ``deferred`` is a field older code does not read: a rollback still reads ``begun``."""
        last = max(turns.values(), default=0)
        kept = {**turns, **{account: last + n for n, account in enumerate(begun, start=1)}}
        counted = {account: runs for account, runs in deferrals.items() if account not in begun}
        counted |= {account: deferrals.get(account, 0) + 1 for account in deferred}
        if self.managed is not None:
            kept = {account: turn for account, turn in kept.items() if account in self.managed}
            counted = {account: runs for account, runs in counted.items() if account in self.managed}
        data: dict[str, Any] = {"begun": kept, **({"deferred": counted} if counted else {})}
        try:
            self.store.put_all([Snapshot(PUBLIC_ACCESS_BLOCK_CURSOR, MEMBER_CURSOR, self.clock(), data)])
        except Exception as exc:
            logger.warning("member Block Public Access turns not saved (%s)", exc)

    def known_role_ids(self, account: str) -> frozenset[str]:
        """The RoleIds of ``account``'s member roles as the heartbeat first read them (``own-role`` snapshots):
        what the forwarding rules may leave out. Empty unless every one is read (then not compared)."""
        read = getattr(self.store, "snapshot", None)
        if read is None:
            return frozenset()
        bus = self.forwarding.central_bus_arn if self.forwarding is not None else ""
        partition = bus.split(":")[1] if bus.startswith("arn:") else "aws"
        found = set()
        for name in self.stack_role_names():
            kept = read(OWN_ROLE, f"arn:{partition}:iam::{account}:role/{name}")
            role_id = kept.data.get("role_id") if kept is not None else None
            if not isinstance(role_id, str) or not role_id:
                return frozenset()  # a role not read yet: its RoleId is unknown, so none is taken for foreign
            found.add(role_id)
        return frozenset(found)

    def stack_role_names(self) -> frozenset[str]:
        """The member roles whose sessions the forwarding rules leave out by ``<RoleId>:iamwarden`` (their names
        from ``IAMWARDEN_MEMBER_ROLE_NAMES``, else the template's defaults)."""
        names = {**MEMBER_ROLE_DEFAULTS, **(self.forwarding.member_roles if self.forwarding is not None else {})}
        return frozenset(names[kind] for kind in MEMBER_ROLE_DEFAULTS)

    def stack_role_ids(self, account: str) -> tuple[frozenset[str] | None, list[str]]:
        """The RoleIds ``account``'s member stack gave its roles, read from its IAM-region forwarding rule (the
        stack's ``!GetAtt <Role>.RoleId`` in the pattern that leaves out IAM Warden's sessions), and what could not
        be read. None: not known (no rule there, no client for that region, or no RoleId in its pattern): then the
        roles are known by the RoleId the heartbeat first read, as before. One ``DescribeRule`` per account's turn.
        """
        if not self.own_roles:
            return None, []
        try:
            events = self._regional("events", account, IAM_REGION)
            if events is None:
                return None, []
            rule = events.describe_rule(Name=STACK_ROLE_ID_RULE)
        except Exception as exc:
            if is_gone(exc) or isinstance(exc, ConfigurationError):
                return None, []  # no rule: the forwarding check says it is gone
            return None, [
                f"in member account {account}, the RoleIds its member stack gave its roles cannot be read (the rule "
                f"{STACK_ROLE_ID_RULE} in {IAM_REGION}: {error_code(exc) or exc}): whether its roles are still the "
                "stack's is known only by the RoleId first read"
            ]
        return stack_role_ids(rule.get("EventPattern")), []

    def _region_problems(
        self, coverage: MemberCoverage, watched: Watched, state: CoverageState, account: str, now: datetime
    ) -> list[str]:
        """The account's enabled regions without a member stack instance, said once a day."""
        if watched.instances is None or self.client_in is None:
            return []
        value: Any
        try:
            enabled = enabled_regions(self.client_in("ec2", account, self.region))
        except Exception as exc:
            said = (
                f"the regions enabled for member account {account} cannot be read ({error_code(exc) or exc}): whether "
                "one has no member stack instance, its events unseen, is not known (the member stack's snapshot role "
                "needs ec2:DescribeRegions: update the StackSet)"
            )
            key, value = f"regions-unread#{account}", [said]
        else:
            unread: dict[str, str] = {}
            instances = dict(watched.instances)
            if account == watched.management:
                instances[account], unread = self._plain_stack_regions(state, account, enabled, now)
            missing = coverage.missing_regions(account, enabled - set(unread), watched._replace(instances=instances))
            if unread:
                said = (
                    f"whether the organisation's management account {account} has a member stack in "
                    f"{', '.join(sorted(unread))} cannot be read (its forwarding rules: "
                    f"{'; '.join(sorted(set(unread.values())))}): its events there are not known to be seen"
                )
                said = f"{missing}; {said}" if missing is not None else said
                key, value = f"regions-unread#{account}", [said]
            elif missing is None:
                state.reported.pop(f"regions#{account}", None)
                return []
            else:
                said, key = missing, f"regions#{account}"
                value = sorted(enabled - set(instances.get(account, frozenset())))
        if not state.due(key, value, now):
            return []
        state.said(key, value, now)
        return [said]

    def _plain_stack_regions(
        self, state: CoverageState, account: str, enabled: set[str], now: datetime
    ) -> tuple[frozenset[str], dict[str, str]]:
        """The enabled regions where ``account`` (the management account) has a plain member stack, known by its
        forwarding rules (``events:DescribeRule`` through the snapshot role: the stack's name is the operator's
        choice, its rules' names are the template's: all of them), and those where that cannot be read. Read again
        at most once per ``LISTING_EVERY`` (kept in ``state``); while a region cannot be read, the found ones are
        kept (paired and checked) and every region is read again at the next turn."""
        kept = state.plain_regions(account, now)
        if kept is not None:
            return kept, {}
        found: set[str] = set()
        unread: dict[str, str] = {}
        for region in sorted(enabled):
            forwarding = self.forwarding.in_region(region) if self.forwarding is not None else None
            rules = (
                [rule for rule in forwarding.rules() if rule != "iamwarden-forward-iam"]
                if forwarding is not None
                else [rule for rule in sorted(declared.MEMBER_RULE_PATTERNS) if rule != "iamwarden-forward-iam"]
            )
            try:
                events = self._regional("events", account, region)
                if events is None:
                    raise ConfigurationError(f"no events client acts in {region}")
                # Every rule of the template, not one look-alike name (review s10 F8); a stack missing some is
                # still said as not deployed there.
                if all(_rule_exists(events, rule) for rule in rules):
                    found.add(region)
            except Exception as exc:
                unread[region] = str(error_code(exc) or exc)
        state.found_plain(account, found, now, complete=not unread)
        return frozenset(found), unread

    def _pair_forwarding_problems(self, pair: Pair, iam: Any) -> list[str]:
        """The forwarding rules, forwarder role and failures of the member stack instance in ``pair``'s region."""
        if self.forwarding is None:
            return []
        forwarding = self.forwarding.in_region(pair.region)
        try:
            events = self._regional("events", pair.account, pair.region)
            known = self.known_role_ids(pair.account)
            problems = forwarding.problems(pair.account, events, known) if events is not None else []
        except Exception as exc:
            problems = [
                f"the forwarding rules of member account {pair.account} in {pair.region} cannot be checked "
                f"({error_code(exc) or exc}): {forwarding.own.redeploy_command(pair.account, pair.region)}"
            ]
        try:
            cloudwatch = self._regional("cloudwatch", pair.account, pair.region)
        except Exception as exc:
            return [
                *problems,
                f"the forwarding failures of member account {pair.account} in {pair.region} cannot be read "
                f"({error_code(exc) or exc})",
            ]
        return problems + forwarding.path_problems(pair.account, iam, cloudwatch, self.now())

    def _regional(self, service: str, account: str, region: str) -> Any:
        """A client of ``service`` acting in ``account`` and ``region`` (``client_in``; without it, the heartbeat's
        region's ``events_in``/``cloudwatch_in``); None: that service is not read."""
        if self.client_in is not None:
            return self.client_in(service, account, region)
        legacy = {"events": self.events_in, "cloudwatch": self.cloudwatch_in}.get(service)
        if legacy is None:
            return None
        if region != self.region:
            raise ConfigurationError(f"no {service} client acts in {region}")
        return legacy(account)

    def path_problems(self, account: str, iam: Any) -> list[str]:
        """The account's forwarder role and forwarding failures (``MemberForwarding.path_problems``)."""
        if self.forwarding is None:
            return []
        try:
            cloudwatch = self.cloudwatch_in(account) if self.cloudwatch_in is not None else None
        except Exception as exc:
            return [f"the forwarding failures of member account {account} cannot be read ({error_code(exc) or exc})"]
        return self.forwarding.path_problems(account, iam, cloudwatch, self.now())

    def forwarding_problems(self, account: str) -> list[str]:
        """The account's forwarding rules against the member template (``MemberForwarding``); one problem when
        they cannot be read at all."""
        if self.forwarding is None or self.events_in is None:
            return []
        try:
            return self.forwarding.problems(account, self.events_in(account), self.known_role_ids(account))
        except Exception as exc:
            return [
                f"the forwarding rules of member account {account} cannot be checked ({error_code(exc) or exc}): "
                f"{self.forwarding.own.redeploy_command(account, self.region)}"
            ]


class _RulesRead:
    """An events client that keeps each rule's pattern it described (``DescribeRule``), so the RoleIds in it are
    compared without reading the rule again."""

    def __init__(self, events: Any) -> None:
        self.events = events
        self.patterns: dict[str, Any] = {}

    def describe_rule(self, **kwargs: Any) -> Any:
        answer = self.events.describe_rule(**kwargs)
        self.patterns[str(kwargs.get("Name"))] = answer.get("EventPattern")
        return answer

    def __getattr__(self, name: str) -> Any:
        return getattr(self.events, name)


#: The member stack's rule whose pattern names the RoleIds it gave its roles (``<RoleId>:iamwarden``), in
#: ``IAM_REGION``.
STACK_ROLE_ID_RULE = "iamwarden-forward-iam"
_STACK_ROLE_ID = re.compile(rf"(ARO[A-Z0-9]{{12,}}):{re.escape(MEMBER_SESSION)}")


def stack_role_ids(pattern: Any) -> frozenset[str] | None:
    """The RoleIds in a member forwarding rule's pattern (each ``<RoleId>:iamwarden`` it leaves out), or None: none
    (the instance creates no roles, or the pattern cannot be read)."""
    try:
        document = json.loads(pattern) if isinstance(pattern, str) else None
    except ValueError:
        return None
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, str):
            match = _STACK_ROLE_ID.fullmatch(node)
            if match:
                found.add(match.group(1))
        elif isinstance(node, Mapping):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    return frozenset(found) or None


def _rule_exists(events: Any, rule: str) -> bool:
    """Whether ``rule`` exists on the default bus (``DescribeRule``); any refusal but "not found" is raised."""
    try:
        events.describe_rule(Name=rule)
    except Exception as exc:
        if is_gone(exc):
            return False
        raise
    return True


class Heartbeat:
    """Checks the loop and publishes one alert listing what is missing (its only writes: the own functions put
    right by ``OwnFunctionCheck.guard``, the snapshots and the alert)."""

    def __init__(
        self,
        config: HeartbeatConfig,
        events: Any,
        lambda_client: Any,
        iam: Any,
        sns: Any,
        *,
        snapshots: SnapshotRefresh | None = None,
        member_snapshots: MemberSnapshots | None = None,
        own_policies: OwnPolicyWatch | None = None,
        settings: Callable[[], Settings] | None = None,
        alert_path: AlertPathCheck | None = None,
        functions: OwnFunctionCheck | None = None,
        ssm: Any = None,
        sqs: Any = None,
        cloudwatch: Any = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        dynamodb: Any = None,
        trail_coverage: TrailCoverage | None = None,
    ) -> None:
        #: Reads the own forwarder's failures (``own_forwarding_problems``); None: not read.
        self.cloudwatch = cloudwatch
        self.now = now
        #: Reads the audit and exceptions tables' resource policies (``table_policy_problems``); None: not checked.
        self.dynamodb = dynamodb
        #: Checks that a trail logs each account's management events (``app.trail_coverage``); None: not checked.
        self.trail_coverage = trail_coverage
        #: Reads the enforcer's dead-letter queue's policy (``dead_letter_policy_problems``); None: not checked.
        self.sqs = sqs
        #: Reads who last wrote the kill switch (``kill_switch_problems``); None: not checked.
        self.ssm = ssm
        self.config = config
        #: Checks each own function's configuration against its template; None: not checked.
        self.functions = functions
        #: Checks the alert key's policy, the topic's data protection and the central bus's key; None: not checked.
        self.alert_path = alert_path
        #: Reads IAM Warden's live settings (``guard_settings_problems``); None: not checked.
        self.settings = settings
        self.events = events
        self.lambda_client = lambda_client
        self.iam = iam
        self.sns = sns
        #: Refreshes the evasion snapshots on each run; None when the template gives no audit table.
        self.snapshots = snapshots
        #: Refreshes the managed member accounts' snapshots; None when the template names no snapshot role.
        self.member_snapshots = member_snapshots
        #: Checks each own managed policy's default version against the deployed one (``app.own_policies``).
        self.own_policies = own_policies
        #: The reads of the run under way (``run``), shared by its checks and its refresh; None between runs.
        self.run_reads: RunReads | None = None
        #: The problems of the last ``problems`` that break the alert path itself: their alert goes to the fallback
        #: topic too (the security topic may carry it to no one).
        self.alert_path_broken: list[str] = []

    def reads(self) -> RunReads:
        """The run's shared reads (a check called outside ``run`` reads for itself)."""
        return self.run_reads or RunReads()

    def problems(self) -> list[str]:
        """Every part of the loop that is missing or switched off, in plain words; empty when it is whole."""
        reads = self.reads()
        found: list[str] = []
        for key in self.config.rules:
            found.extend(self._rule_problems(key))
        found.extend(self._enforcer_problems())
        found.extend(self.guard_settings_problems())
        found.extend(self._bus_policy_problems(reads))
        broken = self._subscription_problems(reads)
        if self.alert_path is not None:
            broken += self.alert_path.problems(reads)
        self.alert_path_broken = broken
        found.extend(broken)
        found.extend(self.fallback_topic_problems(reads))
        if self.functions is not None:
            found.extend(self.functions.problems())
        found.extend(self.kill_switch_problems())
        found.extend(self.invoke_permission_problems())
        found.extend(self.dead_letter_policy_problems())
        found.extend(self.own_forwarding_problems())
        found.extend(self.table_policy_problems())
        return found

    def own_forwarding_problems(self) -> list[str]:
        """The security account's forwarder role (``OwnEventsForwarderRole``) against its template, and the
        forwarder rule's failures (audit s7 gap 17).

        This account's IAM (and S3, KMS ...) events reach the central bus only through that rule and role; the
        event of a Deny put on the role travels the path it cuts.
        """
        role_arn, own = self.config.forwarder_role_arn, self.config.own
        parts = (role_arn or "").split(":")
        if role_arn is None or own is None or len(parts) < 6 or own.home_account is None:
            return []
        partition, account = parts[1], parts[4]
        region = _region_of(self.config.central_bus_arn, self.config.region or own.home_region)
        fix = own.redeploy_command()
        problems = []
        declared_role = declared_forwarder_role("event-forwarder", own, partition, region or "", account)
        if region is not None and declared_role is not None:
            role = role_arn.rsplit("/", 1)[-1]
            problems += forwarder_role_problems(self.iam, role, declared_role, f"the forwarder role {role}", fix)
        if self.cloudwatch is not None:
            problems += failed_invocation_problems(self.cloudwatch, [FORWARDER], account, self.now(), fix)
        return problems

    def table_policy_problems(self) -> list[str]:
        """The audit and exceptions tables must keep the resource policy their template declares (audit s7 gap 6):
        without its ``OnlyIamWardenWritesItems`` Deny, anyone IAM lets write items can rewrite IAM Warden's memory
        (reversals, snapshots, exceptions) with data events no rule routes. The account's root can delete it
        (the break-glass), and its ``DeleteResourcePolicy`` might not be routed: so look each run."""
        account, region = self.config.account, self.config.region
        if self.dynamodb is None or account is None or region is None:
            return []
        partition = self.config.topic_arn.split(":")[1] if self.config.topic_arn.startswith("arn:") else "aws"
        problems = []
        for table in (self.config.audit_table, self.config.exceptions_table):
            if not table:
                continue
            arn = f"arn:{partition}:dynamodb:{region}:{account}:table/{table}"
            try:
                policy = json.loads(self.dynamodb.get_resource_policy(ResourceArn=arn).get("Policy") or "{}")
            except Exception as exc:
                if error_code(exc) != "PolicyNotFoundException":
                    problems.append(
                        f"the resource policy of IAM Warden's table {table} cannot be read ({error_code(exc) or exc})"
                    )
                    continue
                policy = {}
            if not _denies_item_writes(policy_statement(policy, ITEM_WRITES_DENIED)):
                problems.append(
                    f"IAM Warden's table {table} lacks the resource policy its template declares (the "
                    f"{ITEM_WRITES_DENIED} Deny): anyone IAM lets write items can rewrite IAM Warden's memory unseen "
                    f"(put it back: aws dynamodb put-resource-policy --resource-arn {arn} --policy <the template's>)"
                )
        return problems

    def invoke_permission_problems(self) -> list[str]:
        """The enforcer's function policy must let EventBridge invoke it for each rule that targets it, as the
        template declares (SAM's ``<Function><Rule>Permission``, audit s7 gap 16).

        Without it EventBridge can neither invoke the enforcer nor, for a rule, dead-letter the event: the event of
        the ``RemovePermission`` itself and every later one are dropped, and the rules still look whole.
        """
        function = self.config.enforcer_arn
        parts = function.split(":")
        if self.config.own is None or len(parts) < 7:
            return []
        try:
            policy = json.loads(self.lambda_client.get_policy(FunctionName=function).get("Policy") or "{}")
        except Exception as exc:
            if not is_gone(exc):
                return [f"the enforcer's function policy cannot be read ({error_code(exc) or exc})"]
            policy = {}  # no policy at all: nothing may invoke it
        statements = policy.get("Statement", [])
        allowed = {
            str(source)
            for statement in (statements if isinstance(statements, list) else [statements])
            if isinstance(statement, Mapping)
            and statement.get("Effect") == "Allow"
            and _principal_service(statement.get("Principal")) == "events.amazonaws.com"
            and statement.get("Action") in ("lambda:InvokeFunction", ["lambda:InvokeFunction"])
            for source in _source_arns(statement.get("Condition"))
        }
        partition, region, account = parts[1], parts[3], parts[4]
        others = {FORWARDER, SCHEDULE, PRUNE_SCHEDULE, PRUNE_WATCH, EXCEPTION_WATCH}  # the default bus's own
        missing = [
            key
            for key in self.config.rules
            if ("/" in key or key not in others)
            and f"arn:{partition}:events:{region}:{account}:rule/{key}" not in allowed
        ]
        if not missing:
            return []
        return [
            f"EventBridge may no longer invoke the enforcer for the rule{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} (its function policy lacks the permission its template declares): every event "
            f"{'they route' if len(missing) > 1 else 'it routes'} is dropped, not even dead-lettered (put it back: "
            f"{self.config.own.redeploy_command()})"
        ]

    def dead_letter_policy_problems(self) -> list[str]:
        """The enforcer's dead-letter queue's policy must be the one its template declares: EventBridge may send
        to it from this account, and nothing else (a Deny added, or the statement gone, drops what fails)."""
        url, arn = self.config.dead_letter_queue_url, self.config.dead_letter_queue_arn
        parts = (arn or "").split(":")
        if self.sqs is None or url is None or arn is None or len(parts) < 6:
            return []
        declared_policy = declared_queue_policy(parts[5], parts[1], parts[3], parts[4])
        if declared_policy is None:
            return []
        try:
            found = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"]).get("Attributes", {})
        except Exception as exc:
            return [
                f"the enforcer's dead-letter queue {arn} "
                + ("is gone" if is_gone(exc) else f"cannot be read ({error_code(exc) or exc})")
            ]
        if canonical(json.loads(found.get("Policy") or "{}")) == canonical(declared_policy):
            return []
        return [
            f"the policy of the enforcer's dead-letter queue {arn} is not the one its template declares: events "
            "EventBridge fails to deliver may be lost instead of dead-lettered and alarmed (put it back: "
            f"{self.config.own.redeploy_command() if self.config.own else 'sam deploy'})"
        ]

    def kill_switch_problems(self) -> list[str]:
        """The kill switch (``<prefix>/enforcement``) off, last written by anyone but an operator of
        ``iamwarden-tampered`` or IAM Warden's own circuit breaker (audit s7 gap 5).

        One ``PutParameter`` makes every rule alert-only. ``iamwarden-tampered`` puts it back (exempt from the
        switch) once ``operators`` are named or with ``settings_guard: restore``; otherwise, or when that restore
        failed, say so each run, naming who wrote it (``ssm:GetParameterHistory``: ``LastModifiedUser`` of its
        newest version).
        """
        prefix = self.config.settings_prefix
        if self.settings is None or self.ssm is None or not prefix:
            return []
        try:
            settings = self.settings()
        except Exception:
            return []  # guard_settings_problems says so
        if settings.enforcement:
            return []
        name = kill_switch_name(prefix)
        fix = f"aws ssm put-parameter --overwrite --name {name} --value on"
        try:
            history = [
                version
                for page in self.ssm.get_paginator("get_parameter_history").paginate(Name=name)
                for version in page.get("Parameters", [])
            ]
        except Exception as exc:
            return [
                f"the kill switch {name} is off, and who set it cannot be read ({error_code(exc) or exc}): every rule "
                f"only alerts until it is on ({fix})"
            ]
        writer = str(history[-1].get("LastModifiedUser") or "") if history else ""
        if writer and self._operator_or_breaker(writer, settings):
            return []
        return [
            f"the kill switch {name} is off, set by {writer or 'an unknown caller'}, neither an operator of {TAMPERED} "
            f"nor IAM Warden's circuit breaker: every rule only alerts until it is on again ({fix})"
        ]

    def _operator_or_breaker(self, writer: str, settings: Settings) -> bool:
        """Whether ``writer`` (an IAM or STS ARN, as SSM records it) is an operator, or an own function's session."""
        candidates = [writer]
        parts = writer.split(":", 5)
        if len(parts) == 6 and parts[2] == "sts" and parts[5].startswith("assumed-role/"):
            _, role, *session = parts[5].split("/")
            candidates.append(f"arn:{parts[1]}:iam::{parts[4]}:role/{role}")
            own = self.config.own
            if own is not None and session:
                for kind, arn in own.home_roles.items():
                    same_role = arn.rsplit("/", 1)[-1] == role and arn.split(":")[4] == parts[4]
                    if same_role and session[0] in own.functions_of(kind):
                        return True
        operators = settings.rule(TAMPERED).patterns("operators")
        return any(arn_match(pattern, candidate) for pattern in operators for candidate in candidates if pattern)

    def guard_settings_problems(self) -> list[str]:
        """``iamwarden-tampered`` switched off in the settings (globally or for the security account).

        A settings write cannot switch off the judgement of that very write
        (``settings_guard.guarding_a_settings_write``), but once off, every later change to IAM Warden's roles,
        rules and functions goes unseen: say so each run.
        """
        if self.settings is None:
            return []
        try:
            settings = self.settings()
        except Exception as exc:
            return [f"IAM Warden's settings cannot be read ({error_code(exc) or exc})"]
        home = self.config.account
        mode = (settings.for_account(home) if home else settings).rule(TAMPERED).mode
        if mode is Mode.OFF:
            prefix = self.config.settings_prefix or ""
            return [
                f"the rule {TAMPERED} is off ({prefix}/rules/{TAMPERED}/mode"
                + (f" or {prefix}/accounts/{home}/mode" if home else "")
                + "): changes to IAM Warden itself go unseen; it must be remediate (or alert)"
            ]
        return []

    def run(self) -> dict[str, Any]:
        """Check, refresh the snapshots, alert if anything is missing, and say what was found (the handler's answer).

        What both the checks and the refresh need (the central bus, the alert topic's subscriptions) is read once
        (``RunReads``)."""
        self.run_reads = reads = RunReads()
        try:
            problems = self.problems()
            refreshed: dict[str, Any] = {}
            if self.snapshots is not None:
                stored, failures = self.snapshots.refresh(listed_subscriptions=reads.subscriptions)
                problems += failures
                refreshed["snapshots"] = stored
                refreshed |= self.public_access_block_coverage()
            if self.member_snapshots is not None:
                stored, failures = self.member_snapshots.refresh()
                problems += failures
                refreshed["snapshots"] = refreshed.get("snapshots", 0) + stored
                if self.member_snapshots.covered is not None:
                    covered = self.member_snapshots.covered.as_dict()
                    refreshed["member_coverage"] = covered
                    logger.info("member coverage", extra={"member_coverage": covered})
                refreshed |= self.member_public_access_block_coverage()
            if self.trail_coverage is not None:
                problems += self.trail_coverage.problems()
        finally:
            self.run_reads = None
        if self.own_policies is not None:
            stored, failures = self.own_policies.check()
            problems += failures
            refreshed["snapshots"] = refreshed.get("snapshots", 0) + stored
        if problems:
            self.alert_problems(problems)
        notices = list(self.functions.notices) if self.functions is not None else []
        if notices:
            self.sns.publish(**self.notice(notices))
        return {"whole": not problems, "problems": problems, **({"notices": notices} if notices else {}), **refreshed}

    def public_access_block_coverage(self) -> dict[str, Any]:
        """Which buckets this run's Block Public Access reads covered (review pab-s13 F6): in the answer and logged,
        naming the first buckets not read, so that a bucket whose read always fails (a bucket policy denying the
        heartbeat) is seen; empty when no bucket was listed."""
        seed = self.snapshots.public_access_blocks if self.snapshots is not None else None
        if seed is None or not seed.listed:
            return {}
        report = seed.report()
        log = logger.warning if report["not_read"] else logger.info
        log("Block Public Access coverage", extra={"public_access_block": report})
        return {"public_access_block": report}

    def member_public_access_block_coverage(self) -> dict[str, Any]:
        """The member accounts' Block Public Access reads this run, by account, as ``public_access_block_coverage``;
        an account whose snapshot role is refused them is named ``NEEDS_UPDATE`` and one the run's time budget did
        not reach ``DEFERRED_ACCOUNT`` (answer and a WARNING log; its calls are judged as without a record meanwhile;
        one deferred ``MEMBER_DEFERRALS_BEFORE_PROBLEM`` runs in a row is also a heartbeat problem, so alerted)."""
        reports = self.member_snapshots.public_access_reports if self.member_snapshots is not None else {}
        if not reports:
            return {}
        unread = any(
            "needs_update" in report or "deferred_account" in report or report.get("not_read")
            for report in reports.values()
        )
        log = logger.warning if unread else logger.info
        log("member accounts' Block Public Access coverage", extra={"public_access_block_members": reports})
        return {"public_access_block_members": dict(reports)}

    def notice(self, notices: list[str]) -> dict[str, Any]:
        """The SNS publish request for what the heartbeat says once and is no problem (a code hash not known yet)."""
        text = "\n".join(
            ["IAM Warden's heartbeat has a notice (the loop is not broken by it):", "", *(f"- {n}" for n in notices)]
        )
        return self._publish_request("IAM Warden heartbeat: notice", text, "low", "heartbeat_notice")

    def alert_problems(self, problems: list[str]) -> None:
        """Publish the critical alert listing ``problems`` (the deploy's snapshot reports through it too).

        It goes to the fallback topic as well when the alert path is broken (``alert_path_broken``) or the security
        topic refuses it, saying so; the heartbeat fails only when neither topic takes it.
        """
        request = self.alert(problems)
        fallback = self.config.fallback_topic_arn
        broken = any(problem in self.alert_path_broken for problem in problems)
        try:
            self.sns.publish(**request)
        except Exception as exc:
            if not fallback:
                raise
            logger.error(
                "the alert topic refused the heartbeat's alert: sent to the fallback topic",
                extra={"topic": self.config.topic_arn, "error": error_code(exc) or str(exc)},
            )
            why = f"the alert topic {self.config.topic_arn} refused it ({error_code(exc) or exc})"
            self.sns.publish(**self._via_fallback(request, fallback, why))
            return
        if broken and fallback:
            why = f"the alert path itself is broken: the alert topic {self.config.topic_arn} may carry it to no one"
            self.sns.publish(**self._via_fallback(request, fallback, why))

    @staticmethod
    def _via_fallback(request: Mapping[str, Any], fallback: str, why: str) -> dict[str, Any]:
        """The publish request for the fallback topic: the same alert, saying why it came that way."""
        message = f"Sent through IAM Warden's fallback topic: {why}.\n\n{request['Message']}"
        return {**request, "TopicArn": fallback, "Message": message}

    def fallback_topic_problems(self, reads: RunReads | None = None) -> list[str]:
        """The fallback topic must be there, under the AWS-managed key, with its declared policy and a subscriber.

        It carries what the alert topic refuses: lost, re-keyed or closed by its policy, the next lock-out of the
        alert key silences everything (README "The alert path").
        """
        topic = self.config.fallback_topic_arn
        if not topic:
            return []
        reads = reads or self.reads()
        fix = f"put it back: sam deploy --stack-name {self.config.stack_name}"
        try:
            attributes = self.sns.get_topic_attributes(TopicArn=topic).get("Attributes", {})
        except Exception as exc:
            return [
                f"the fallback alert topic {topic} "
                + (f"is gone: alerts the alert topic refuses reach no one ({fix})" if is_gone(exc) else "")
                + ("" if is_gone(exc) else f"cannot be read ({error_code(exc) or exc})")
            ]
        problems = []
        key = attributes.get("KmsMasterKeyId")
        if key != declared.ALERT_FALLBACK_TOPIC_KEY:
            problems.append(
                f"the fallback alert topic {topic} is encrypted with {key or 'no key'}, not "
                f"{declared.ALERT_FALLBACK_TOPIC_KEY}: a key whose policy can be changed can lock IAM Warden out of "
                f"both topics ({fix})"
            )
        declared_policy = self._declared_fallback_policy()
        live = json.loads(attributes.get("Policy") or "{}")
        if declared_policy is not None and _unlisted(live) != _unlisted(declared_policy):
            problems.append(
                f"the policy of the fallback alert topic {topic} is not the one its template declares: it may refuse "
                f"IAM Warden's last-resort alerts ({fix})"
            )
        try:
            subscriptions = reads.subscriptions(self.sns, topic)
        except Exception as exc:
            return [*problems, f"the subscriptions of the fallback alert topic {topic} cannot be read ({exc})"]
        if not any(s.get("SubscriptionArn", "").startswith("arn:") for s in subscriptions):
            problems.append(
                f"the fallback alert topic {topic} has no confirmed subscription: alerts the alert topic refuses reach "
                "no one"
            )
        return problems

    def _declared_fallback_policy(self) -> dict[str, Any] | None:
        topic = self.config.fallback_topic_arn or ""
        parts = topic.split(":")
        if len(parts) < 6 or not self.config.own_role_arns:
            return None
        own = OwnIdentity(home_account=parts[4], home_roles=dict(self.config.own_role_arns), alert_fallback_topic=topic)
        return declared_fallback_topic_policy(own, parts[1])

    def alert(self, problems: list[str]) -> dict[str, Any]:
        """The SNS publish request: readable text for e-mail, filterable attributes like every IAM Warden alert."""
        stack = self.config.stack_name
        text = "\n".join(
            [
                "🔴 CRITICAL  IAM Warden's heartbeat found its loop broken: changes may go unseen until it is whole.",
                "",
                *(f"- {problem}" for problem in problems),
                "",
                "Find who changed it in CloudTrail (the rule iamwarden-tampered alerts each change it sees), then put",
                f"IAM Warden back: aws cloudformation detect-stack-drift --stack-name {stack}, then sam deploy "
                f"--stack-name {stack}.",
            ]
        )
        return self._publish_request(
            "IAM Warden heartbeat: the guard is not whole", text, "critical", "heartbeat_failed"
        )

    def _publish_request(self, subject: str, text: str, severity: str, outcome: str) -> dict[str, Any]:
        """One heartbeat message to the alert topic, with the attributes every IAM Warden alert is filtered by."""
        return {
            "TopicArn": self.config.topic_arn,
            "Subject": subject,
            "Message": text,
            "MessageAttributes": {
                "rule": {"DataType": "String", "StringValue": "iamwarden-tampered"},
                "severity": {"DataType": "String", "StringValue": severity},
                "outcome": {"DataType": "String", "StringValue": outcome},
            },
        }

    def _rule_problems(self, key: str) -> list[str]:
        bus, _, name = key.rpartition("/")
        role = self.config.forwarder_role_arn if not bus and name == FORWARDER else None
        # The heartbeat's own schedule runs this check, so its target is the heartbeat itself; a pruner rule whose
        # function the environment does not name has no target to compare: their state is checked only.
        target = None if name == SCHEDULE and not bus else self._expected_target(name, bus)
        declared_route = DeclaredRoute(
            what=f"the rule {key}",
            template="the template",
            target=target,
            role=role,
            content_problems=lambda rule: self.declared_rule_problems(key, rule),
        )
        return route_problems(self.events, name, bus, declared_route)

    def declared_rule_problems(self, key: str, rule: Mapping[str, Any]) -> list[str]:
        """The rule's pattern and schedule against the template's (audit s7 gap 18).

        A rule re-patterned to match nothing (``PutRule``, still enabled, same target) routes nothing, not even the
        event of its own change: only this comparison sees it. The declared content is the one the enforcer
        exempts CloudFormation's changes by (``declared_content.declared_rule``), filled in from this stack's
        environment. The pruner's schedule is a stack parameter (``PruneSchedule``): its pattern-less schedule is
        not compared, as a deploy with another value is no tampering.
        """
        own = self.config.own
        if own is None or key not in declared.OWN_RULE_CONTENT:
            return []
        parts = self.config.enforcer_arn.split(":")
        if len(parts) < 5:
            return []
        fix = own.redeploy_command()
        found = declared_rule(key, own, parts[1], parts[3], parts[4])
        if found is None:
            return [
                f"the rule {key} cannot be compared with its template: the heartbeat's environment lacks what its "
                "declared content names (an own role's ARN or a Slack secret)"
            ]
        described = {
            "eventPattern": rule.get("EventPattern"),
            # The pruner's schedule is a stack parameter: a deploy with another value is no tampering.
            "scheduleExpression": found.schedule if key == PRUNE_SCHEDULE else rule.get("ScheduleExpression"),
            "state": found.state,  # its state is route_problems' to say
        }
        return [
            f"the rule {key} has {difference}: what it should route (its own change too) may never reach IAM Warden "
            f"(put it back: {fix})"
            for difference in rule_differences(described, found)
        ]

    def _expected_target(self, name: str, bus: str) -> str | None:
        """The ARN the rule must target: the central bus (forwarder), a pruner function or the exception watch,
        else the enforcer."""
        if not bus:
            if name == FORWARDER:
                return self.config.central_bus_arn
            if name == PRUNE_SCHEDULE:
                return self.config.prune_planner_arn
            if name == PRUNE_WATCH:
                return self.config.prune_watch_arn
            if name == EXCEPTION_WATCH:
                return self.config.exception_watch_arn
        return self.config.enforcer_target_arn or self.config.enforcer_arn

    def _enforcer_problems(self) -> list[str]:
        problems = []
        function = self.config.enforcer_arn
        try:
            reserved = self.lambda_client.get_function_concurrency(FunctionName=function).get(
                "ReservedConcurrentExecutions"
            )
        except Exception as exc:
            return [f"the enforcer {function} " + ("is gone" if is_gone(exc) else f"cannot be read ({exc})")]
        if reserved == 0:
            problems.append(f"the enforcer {function} has a reserved concurrency of 0: it never runs")
        role = self.config.enforcer_role_name
        attached = [
            policy["PolicyArn"]
            for page in self.iam.get_paginator("list_attached_role_policies").paginate(RoleName=role)
            for policy in page.get("AttachedPolicies", [])
        ]
        declared = self.config.enforcer_policy_arns
        if extra := [arn for arn in attached if arn not in declared]:
            problems.append(f"the enforcer's role {role} has policies attached that its template does not: {extra}")
        if missing := [arn for arn in declared if arn not in attached]:
            problems.append(
                f"the enforcer's role {role} lacks the policies its template attaches (its remediation grants): "
                f"{missing}"
            )
        return problems

    def _bus_policy_problems(self, reads: RunReads | None = None) -> list[str]:
        """The central bus's policy must be the declared one, whole: the statement admitting the organisation and
        nothing else (a Deny beside it refuses every forwarder's events, another Allow admits forged ones)."""
        reads = reads or self.reads()
        arn = self.config.central_bus_arn
        parts = arn.split(":", 5)
        if self.config.organization_id is None or len(parts) < 6:
            return []  # no organisation: the template declares no bus policy
        bus = parts[5].rsplit("/", 1)[-1]
        own = OwnIdentity(home_account=parts[4], central_bus=bus, organization_id=self.config.organization_id)
        declared_policy = declared_bus_policy(own, parts[1], parts[3])
        try:
            found = reads.central_bus(self.events, bus)
        except Exception as exc:
            return [f"the central bus {bus} " + ("is gone" if is_gone(exc) else f"cannot be read ({exc})")]
        policy = json.loads(found["Policy"]) if found.get("Policy") else None
        differences = bus_policy_differences(policy, declared_policy) if declared_policy is not None else []
        if differences:
            return [
                f"the central bus {bus}'s policy is not the one its template declares ({'; '.join(differences)}): "
                f"member accounts' events may be refused (the organisation {self.config.organization_id} must be "
                f"admitted by {CENTRAL_BUS_STATEMENT_ID} alone); put it back: "
                f"{self.config.own.redeploy_command() if self.config.own else 'sam deploy'}"
            ]
        return []

    def _subscription_problems(self, reads: RunReads | None = None) -> list[str]:
        """The alert topic must have a confirmed subscription: without one every alert reaches no one."""
        reads = reads or self.reads()
        topic = self.config.topic_arn
        try:
            subscriptions = reads.subscriptions(self.sns, topic)
        except Exception as exc:
            return [f"the alert topic {topic} " + ("is gone" if is_gone(exc) else f"cannot be read ({exc})")]
        if not any(s.get("SubscriptionArn", "").startswith("arn:") for s in subscriptions):
            fallback = self.config.fallback_topic_arn
            where = "leaves through the fallback topic" if fallback else "is only in the heartbeat's log"
            return [f"the alert topic {topic} has no confirmed subscription: alerts reach no one (this one {where})"]
        return []


class OwnFunctionCheck:
    """Each own function's configuration against its template (audit s7 gap 0).

    ``UpdateFunctionCode``/``UpdateFunctionConfiguration`` of the enforcer is judged by the enforcer as changed: a
    no-op handler, or ``IAMWARDEN_OWN_ROLE_ARNS`` naming the intruder's role, makes that event and every later one
    vanish. So the heartbeat, another function with another role, reads each function of the stack
    (``declared.OWN_FUNCTIONS``, ``lambda:GetFunctionConfiguration``) and wants: the role the template gives it
    (``IAMWARDEN_OWN_FUNCTION_ROLES``, by exact ARN), its handler and runtime, exactly the environment variables the
    template declares (no other: ``AWS_LAMBDA_EXEC_WRAPPER`` or ``PYTHONPATH`` run other code), each variable the
    Globals give every function with the heartbeat's own value, and the heartbeat's own layers. And the code itself:
    the live ``CodeSha256`` against the ``OWN_CODE`` record of what the stack deployed (kept by the enforcer from
    CloudFormation's own ``UpdateFunctionCode``/``CreateFunction``, and by the first deploy's snapshot,
    ``record_first``). A function with no record yet is said once (``notices``), neither silenced nor alarmed.
    """

    def __init__(
        self,
        config: HeartbeatConfig,
        lambda_client: Any,
        recorded: Any = None,
        *,
        clock: Callable[[], str] = _now,
        guard: OwnFunctionGuard | None = None,
    ) -> None:
        self.config = config
        self.lambda_client = lambda_client
        #: Reads each function's policy and URL, and puts right what it finds (``app.own_function_guard``); None:
        #: neither read nor acted on.
        self.guard = guard
        #: The audit table's snapshots (``snapshot``/``put``): the deployed code's records; None: code not compared.
        self.recorded = recorded
        self.clock = clock
        #: What the last ``problems`` has to say that is no problem (a code hash not known yet), said once each.
        self.notices: list[str] = []

    def problems(self) -> list[str]:
        own = self.config.own
        if own is None:
            return []
        fix = own.redeploy_command()
        found: dict[str, dict[str, Any]] = {}
        problems: list[str] = []
        for name in sorted(declared.OWN_FUNCTIONS):
            try:
                found[name] = self.lambda_client.get_function_configuration(FunctionName=name)
            except Exception as exc:
                gone = is_gone(exc)
                problems.append(
                    f"IAM Warden's function {name} "
                    + ("is gone" if gone else f"cannot be read ({error_code(exc) or exc})")
                    + (f" ({fix})" if gone else "")
                )
        layers = _layers(found[SCHEDULE]) if SCHEDULE in found else None
        self.notices = []
        for name, live in found.items():
            differences = self.differences(name, live, layers)
            if differences:
                problems.append(
                    f"IAM Warden's function {name} is not as its template declares it ({'; '.join(differences)}): "
                    f"what it runs may not be IAM Warden (put it back: {fix})"
                )
            problems.extend(self.code_problems(name, live))
            if self.guard is not None:
                problems.extend(self.guard.permission_problems(name))
                problems.extend(self.guard.url_problems(name))
        return problems

    def code_problems(self, name: str, live: Mapping[str, Any]) -> list[str]:
        """Whether function ``name`` runs the code its stack deployed (``OWN_CODE``); no record: one notice, ever."""
        if self.recorded is None:
            return []
        arn, sha = str(live.get("FunctionArn") or name), live.get("CodeSha256")
        fix = self.config.own.redeploy_command() if self.config.own is not None else "redeploy IAM Warden's stack"
        try:
            record = self.recorded.snapshot(OWN_CODE, arn)
            if record is None:
                if self.recorded.snapshot(OWN_CODE_UNKNOWN, arn) is None:
                    self.recorded.put(Snapshot(OWN_CODE_UNKNOWN, arn, self.clock(), {"said_at": self.clock()}))
                    self.notices.append(
                        f"the code hash of IAM Warden's function {name} is not yet known (its CodeSha256 is {sha}): "
                        "no deploy of its stack was recorded since this check exists; it is compared from the next "
                        "deploy on (CloudFormation's UpdateFunctionCode, or the deploy's snapshot)"
                    )
                return []
        except Exception as exc:
            return [f"the deployed code of IAM Warden's function {name} cannot be read ({error_code(exc) or exc})"]
        deployed = record.data.get("code_sha256")
        if sha == deployed:
            # A stop is never lifted here: the code hash alone does not say the function runs IAM Warden (review s10
            # F1); an operator undoes it (the stop's alert names the command).
            return []
        problem = (
            f"IAM Warden's function {name} runs code its stack did not deploy (CodeSha256 {sha}, not {deployed} as "
            f"recorded from {record.data.get('source', 'the deploy')} at {record.taken_at}): what it runs may not be "
            f"IAM Warden (put it back: {fix})"
        )
        if self.guard is None:
            return [problem]
        deploy = DeployRecord.of(record.data, record.taken_at)
        return [self.guard.changed_code(name, str(sha), problem, live.get("LastModified"), deploy)]

    def record_first(self) -> tuple[int, list[str]]:
        """At deploy (the custom resource, while the own stack is being deployed): each own function's live code as
        the deployed one, where no record is kept yet. A kept record is never overwritten here: the next deploy's
        CloudFormation ``UpdateFunctionCode`` replaces it, and code an intruder changed before a deploy that does
        not touch it must stay a difference."""
        if self.recorded is None:
            return 0, []
        stored, problems = 0, []
        for name in sorted(declared.OWN_FUNCTIONS):
            try:
                live = self.lambda_client.get_function_configuration(FunctionName=name)
                arn, sha = str(live["FunctionArn"]), live.get("CodeSha256")
                if not isinstance(sha, str) or self.recorded.snapshot(OWN_CODE, arn) is not None:
                    continue
                now = self.clock()
                self.recorded.put(Snapshot(OWN_CODE, arn, now, {"code_sha256": sha, "source": "the deploy's snapshot"}))
                stored += 1
            except Exception as exc:
                if is_gone(exc):
                    continue  # no function, no code: the heartbeat's check says it is gone
                problems.append(
                    f"the code IAM Warden's function {name} was deployed with cannot be recorded "
                    f"({error_code(exc) or exc}): it is compared from the next deploy on"
                )
        return stored, problems

    def differences(self, name: str, live: Mapping[str, Any], layers: tuple[str, ...] | None) -> list[str]:
        """How ``live`` differs from function ``name`` as declared, in words (empty: as declared)."""
        own = self.config.own
        content = json.loads(declared.OWN_FUNCTIONS[name])
        differences = []
        kind = own.function_roles.get(name) if own is not None else None
        role = own.home_roles.get(kind) if own is not None and kind else None
        if role is not None and live.get("Role") != role:
            differences.append(f"it runs as {live.get('Role')}, not {role}")
        for field, key in (("Handler", "handler"), ("Runtime", "runtime")):
            if live.get(field) != content[key]:
                differences.append(f"its {field.lower()} is {live.get(field)!r}, not {content[key]!r}")
        variables: Mapping[str, str] = (live.get("Environment") or {}).get("Variables") or {}
        if extra := sorted(set(variables) - set(content["environment"])):
            differences.append(f"it has environment variables its template does not declare: {', '.join(extra)}")
        if missing := sorted(set(content["environment"]) - set(variables)):
            differences.append(f"it lacks the environment variables {', '.join(missing)}")
        if changed := sorted(
            variable
            for variable, value in self.config.shared_environment
            if variable in variables and variables[variable] != value
        ):
            differences.append(f"its {', '.join(changed)} differ from every other own function's")
        if layers is not None and _layers(live) != layers:
            differences.append(f"its layers {list(_layers(live))} are not the heartbeat's {list(layers)}")
        return differences


def _principal_service(principal: Any) -> Any:
    service = principal.get("Service") if isinstance(principal, Mapping) else None
    return service[0] if isinstance(service, list) and len(service) == 1 else service


def _source_arns(condition: Any) -> list[str]:
    """The ``AWS:SourceArn`` values a Lambda permission's condition names (``ArnLike``, as Lambda writes it)."""
    found: list[str] = []
    for operator in (condition or {}).values() if isinstance(condition, Mapping) else []:
        for key, value in (operator or {}).items() if isinstance(operator, Mapping) else []:
            if key.lower() == "aws:sourcearn":
                found.extend(value if isinstance(value, list) else [value])
    return [str(value) for value in found]


def _layers(configuration: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(str(layer.get("Arn")) for layer in configuration.get("Layers") or [])


class AlertPathCheck:
    """The alert path's quieter switches, each against what the template declares (audit s6 gaps 1 and 7).

    * the alert key's policy (``kms:GetKeyPolicy``): the declared one (``declared_alert_key_policy``); a
      policy without SNS and CloudWatch stops every alert the topic carries, the heartbeat's and the alarms' too,
      so this one is for the log and Slack until the key is put back;
    * the topic's data-protection policy (``sns:GetDataProtectionPolicy``): the template declares none, and an
      inbound Deny refuses every publish;
    * the central bus (``events:DescribeEventBus``): the template gives it no customer key and no dead-letter queue;
      another key its owner disables turns every member account's events away.
    """

    def __init__(self, config: HeartbeatConfig, kms: Any, sns: Any, events: Any) -> None:
        self.config = config
        self.kms = kms
        self.sns = sns
        self.events = events

    def problems(self, reads: RunReads | None = None) -> list[str]:
        """What differs from the template; ``reads``: the heartbeat run's shared reads (the central bus)."""
        reads = reads or RunReads()
        return [*self._key_policy_problems(), *self._data_protection_problems(), *self._bus_problems(reads)]

    def declared_key_policy(self) -> dict[str, Any] | None:
        key = self.config.alert_key_arn
        parts = (key or "").split(":")
        if key is None or len(parts) < 6:
            return None
        own = OwnIdentity(home_account=parts[4], home_roles=dict(self.config.own_role_arns), alert_key=key)
        return declared_alert_key_policy(own, parts[1])

    def _key_policy_problems(self) -> list[str]:
        key, declared_policy = self.config.alert_key_arn, self.declared_key_policy()
        if key is None or declared_policy is None:
            return []
        try:
            found = self.kms.get_key_policy(KeyId=key, PolicyName="default")
        except Exception as exc:
            return [
                f"the policy of the alert key {key} "
                + ("is gone" if is_gone(exc) else f"cannot be read ({error_code(exc) or exc})")
                + ": if IAM Warden is locked out of it, SNS may no longer encrypt alerts"
            ]
        live = json.loads(found.get("Policy") or "{}")
        if _unlisted(live) != _unlisted(declared_policy):
            return [
                f"the policy of the alert key {key} is not the one its template declares: if SNS or CloudWatch may no "
                "longer use the key, no alert or alarm reaches the topic's subscribers (put it back: aws kms "
                f"put-key-policy --key-id {key} --policy-name default --policy <the template's AlertKey KeyPolicy>)"
            ]
        return []

    def _data_protection_problems(self) -> list[str]:
        topic = self.config.topic_arn
        try:
            found = self.sns.get_data_protection_policy(ResourceArn=topic)
        except Exception as exc:
            if is_gone(exc):
                return []  # the topic itself: _subscription_problems says so
            return [f"the data-protection policy of the alert topic {topic} cannot be read ({error_code(exc) or exc})"]
        if (found.get("DataProtectionPolicy") or "").strip():
            return [
                f"the alert topic {topic} has a data-protection policy, which its template does not declare: one that "
                f"denies inbound messages refuses every alert (remove it: aws sns put-data-protection-policy "
                f'--resource-arn {topic} --data-protection-policy "")'
            ]
        return []

    def _bus_problems(self, reads: RunReads) -> list[str]:
        arn = self.config.central_bus_arn
        bus = arn.rsplit("/", 1)[-1]
        try:
            found = reads.central_bus(self.events, bus)
        except Exception as exc:
            return [] if is_gone(exc) else [f"the central bus {bus} cannot be read ({error_code(exc) or exc})"]
        given = [
            *([f"the KMS key {found['KmsKeyIdentifier']}"] if found.get("KmsKeyIdentifier") else []),
            *(
                [f"the dead-letter queue {found['DeadLetterConfig'].get('Arn')}"]
                if found.get("DeadLetterConfig")
                else []
            ),
        ]
        if given:
            return [
                f"the central bus {bus} has {' and '.join(given)}, which its template does not declare: if that key is "
                "disabled, every member account's events are refused"
            ]
        return []


def _unlisted(value: Any) -> Any:
    """A policy with each one-item list as its item (KMS and IAM may write either), for comparing."""
    if isinstance(value, Mapping):
        return {key: _unlisted(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return _unlisted(value[0]) if len(value) == 1 else [_unlisted(inner) for inner in value]
    return value


#: The Sid of the tables' Deny of item writes to all but IAM Warden's roles and the operators (template.yaml).
ITEM_WRITES_DENIED = "OnlyIamWardenWritesItems"


def _denies_item_writes(statement: Any) -> bool:
    """Whether ``statement`` is the template's Deny of item writes: Deny, to everyone, of PutItem among others."""
    if not isinstance(statement, Mapping) or statement.get("Effect") != "Deny":
        return False
    actions = statement.get("Action")
    listed = actions if isinstance(actions, list) else [actions]
    return statement.get("Principal") in ("*", {"AWS": "*"}) and "dynamodb:PutItem" in listed


def _region_of(arn: str, default: str | None) -> str | None:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 and parts[3] else default


def _bus(bus: str) -> dict[str, str]:
    return {"EventBusName": bus} if bus else {}


def build_heartbeat(session: Any = None, environ: Mapping[str, str] | None = None) -> Heartbeat:
    """The heartbeat as Lambda runs it: its own role's clients, one retry configuration."""
    session = session or aws_session()
    config = HeartbeatConfig.from_environment(environ)
    iam = session.client("iam", config=retry_config())
    # The topic's own region (the stack's): it is published to, checked and its subscriptions read where it is.
    sns = session.client("sns", region_name=_region_of(config.topic_arn, config.region), config=retry_config())
    settings = None
    if config.settings_prefix:
        source = SsmSettingsSource(config.settings_prefix, ssm_parameters(session.client("ssm", config=retry_config())))

        def settings() -> Settings:
            return source.current().settings

    snapshots = None
    own_policies = None
    recorded: AuditRecorded | None = None
    if config.audit_table and config.account and config.region:
        dynamodb = session.client("dynamodb", config=retry_config())
        recorded = AuditRecorded(AuditLog(config.audit_table, dynamodb), dynamodb)
        own, user_remediation = config.own, config.user_remediation

        def declared_policy(arn: str) -> dict[str, Any] | None:
            return declared_own_policy(arn, own, user_remediation) if own is not None else None

        own_policies = OwnPolicyWatch(recorded, iam, config.enforcer_policy_arns, declared=declared_policy)
        snapshots = SnapshotRefresh(
            recorded,
            session.client("cloudtrail", region_name=config.region, config=retry_config()),
            iam,
            config.account,
            region=config.region,
            own_roles=config.own_roles,
            cloudtrail_in=lambda region: session.client("cloudtrail", region_name=region, config=retry_config()),
            service_client=lambda service: session.client(service, region_name=config.region, config=retry_config()),
            service_client_in=lambda service, region: session.client(
                service, region_name=region, config=retry_config()
            ),
            sns=sns,
            topic_arn=config.topic_arn,
            own=config.own,
            public_access_blocks=_public_access_seed(session, config.account, config.region, settings, recorded),
        )
    member_snapshots = None
    if snapshots is not None and config.member_snapshot_role and config.settings_prefix:
        member_snapshots = _member_snapshots(session, config, snapshots.store)
    events = session.client("events", config=retry_config())
    return Heartbeat(
        config,
        events,
        session.client("lambda", config=retry_config()),
        iam,
        sns,
        snapshots=snapshots,
        member_snapshots=member_snapshots,
        own_policies=own_policies,
        settings=settings,
        alert_path=AlertPathCheck(config, session.client("kms", config=retry_config()), sns, events),
        functions=OwnFunctionCheck(
            config,
            session.client("lambda", config=retry_config()),
            recorded,
            guard=_own_function_guard(session, config, settings),
        ),
        ssm=session.client("ssm", config=retry_config()),
        sqs=session.client("sqs", config=retry_config()),
        cloudwatch=session.client("cloudwatch", config=retry_config()),
        dynamodb=session.client("dynamodb", config=retry_config()) if config.audit_table else None,
        trail_coverage=_trail_coverage(session, config, member_snapshots),
    )


#: The Block Public Access reads' client settings: a short timeout and one retry, so that one slow or throttled
#: bucket costs seconds, not the heartbeat's 30 (botocore's default read timeout is 60 s, the house's 8 retries);
#: a bucket not read is read again when the cursor comes round (review pab-s13 F2).
SEED_READS: dict[str, int] = {"connect_timeout": 2, "read_timeout": 3, "max_attempts": 1}


def _public_access_seed(
    session: Any, account: str, region: str, settings: Callable[[], Settings] | None, cursor: Any | None = None
) -> PublicAccessBlockSeed:
    """The home account's Block Public Access reads, each bucket in its own Region (``app.public_access_seed``),
    resuming where the last run stopped (the cursor kept in the audit table)."""
    clients: dict[str, Any] = {}
    reads = retry_config(**SEED_READS)

    def s3_in(bucket_region: str) -> Any:
        if bucket_region not in clients:
            clients[bucket_region] = session.client("s3", region_name=bucket_region, config=reads)
        return clients[bucket_region]

    per_run, max_age_days = _seed_settings(settings, account)
    return PublicAccessBlockSeed(
        s3_in(region),
        session.client("s3control", region_name=region, config=retry_config()),
        account,
        partition_of(region),
        s3_in=s3_in,
        per_run=per_run,
        max_age_days=max_age_days,
        cursor=cursor,
        listing=session.client("s3", region_name=region, config=retry_config()),
    )


def _member_public_access_seed(
    factory: ClientFactory, region: str, settings: Callable[[], Settings], cursor: Any
) -> Callable[[str], MemberPublicAccessBlockSeed]:
    """A member account's Block Public Access reads through its snapshot role (``factory``), as the home account's:
    each bucket in its own Region with the short timeouts, the listing with the house's retries, its own cursor, and
    the rule's settings as the enforcer judges that account's events (its ``accounts/<id>/rules`` overrides)."""

    def seed(account: str) -> MemberPublicAccessBlockSeed:
        per_run, max_age_days = _seed_settings(settings, account)
        return MemberPublicAccessBlockSeed(
            factory.client("s3", account, region, timeouts=SEED_READS),
            factory.client("s3control", account, region),
            account,
            partition_of(region),
            s3_in=lambda bucket_region: factory.client("s3", account, bucket_region, timeouts=SEED_READS),
            per_run=per_run,
            max_age_days=max_age_days,
            cursor=cursor,
            listing=factory.client("s3", account, region),
        )

    return seed


def _seed_settings(
    settings: Callable[[], Settings] | None, account: str | None = None
) -> tuple[Callable[[], int], Callable[[], int]]:
    """How many buckets a run reads per account, and the rule's maximum record age, from the settings (their
    defaults when they cannot be read: the settings' own problem is the heartbeat's check of them). The age is
    ``account``'s, as the enforcer judges its events (``Settings.for_account``): a record the rule still trusts there
    is never replaced, one it no longer trusts is a gap (review bpamember-s14 F4); None: the global setting."""

    def per_run() -> int:
        if settings is None:
            return DEFAULT_BUCKETS_PER_RUN
        try:
            return settings().public_access_block_buckets_per_run
        except Exception as exc:  # the settings' own problem is the heartbeat's check of them: read the default
            logger.warning("heartbeat settings not read (%s): %d buckets this run", exc, DEFAULT_BUCKETS_PER_RUN)
            return DEFAULT_BUCKETS_PER_RUN

    def max_age_days() -> int:
        if settings is None:
            return DEFAULT_MAX_AGE_DAYS
        try:
            current = settings() if account is None else settings().for_account(account)
            return int(current.rule(S3_PUBLIC_ACCESS_BLOCK_DISABLED.id).choice("record_max_age_days"))
        except Exception as exc:  # as per_run: the settings' own problem is reported by their check
            logger.warning("heartbeat settings not read (%s): records older than %d days", exc, DEFAULT_MAX_AGE_DAYS)
            return DEFAULT_MAX_AGE_DAYS

    return per_run, max_age_days


def _own_function_guard(
    session: Any, config: HeartbeatConfig, settings: Callable[[], Settings] | None
) -> OwnFunctionGuard | None:
    """What puts right what the heartbeat finds on the own functions, through the executor (before-state in the
    audit table first); None without the stack's identity. Without an audit table it only alerts."""
    own, parts = config.own, config.enforcer_arn.split(":")
    if own is None or own.home_account is None or len(parts) < 7:
        return None
    executor, recorded = None, None
    if config.audit_table:
        clients = ClientFactory(own.home_account, session=session)
        dynamodb = clients.home_client("dynamodb")
        audit = AuditLog(config.audit_table, dynamodb)
        executor = RemediationExecutor(clients, audit)
        recorded = AuditRecorded(audit, dynamodb)  # when changed code was first seen (the deploy grace)
    return OwnFunctionGuard(
        own,
        session.client("lambda", config=retry_config()),
        partition=parts[1],
        region=parts[3],
        executor=Executes(executor.remediate) if executor is not None else None,
        settings=settings,
        cloudformation=session.client("cloudformation", region_name=parts[3], config=retry_config()),
        stack=config.stack_name,
        recorded=recorded,
    )


def _trail_coverage(session: Any, config: HeartbeatConfig, members: MemberSnapshots | None) -> TrailCoverage | None:
    """The trail check of the security account and of the member accounts the member snapshots read this run."""
    if not (config.account and config.region):
        return None
    home_account = config.account

    def cloudtrail_in(account: str, region: str) -> Any:
        if account == home_account:
            return session.client("cloudtrail", region_name=region, config=retry_config())
        if members is None:  # only members' accounts are asked for, and only when there are members
            raise ConfigurationError(f"account {account} is not one the heartbeat reads")
        if region == config.region or members.cloudtrail_in is None:
            return members.clients(account)[0]
        return members.cloudtrail_in(account, region)

    def chosen() -> list[str]:
        return members.taken_accounts() if members is not None else []

    return TrailCoverage(home_account, config.region, cloudtrail_in, chosen)


def _member_snapshots(session: Any, config: HeartbeatConfig, store: SnapshotStore) -> MemberSnapshots:
    """The member accounts' snapshots: the ``managed_accounts`` setting, clients through the snapshot role."""
    home_account, region = config.account or "", config.region or ""
    factory = ClientFactory(
        home_account, config.member_snapshot_role or "", session=session, session_name=SNAPSHOT_SESSION
    )
    settings = SsmSettingsSource(config.settings_prefix or "", ssm_parameters(factory.home_client("ssm", region)))

    def accounts() -> frozenset[str]:
        return settings.current().settings.managed_accounts

    def clients(account: str) -> tuple[Any, Any]:
        return factory.client("cloudtrail", account, region), factory.client("iam", account, region)

    def cloudtrail_in(account: str, trail_region: str) -> Any:
        return factory.client("cloudtrail", account, trail_region)

    stack_set_name = os.environ.get("IAMWARDEN_MEMBER_STACK_SET") or MEMBER_STACK_SET_DEFAULT
    coverage = MemberCoverage(
        home_account=home_account,
        region=region,
        settings=lambda: settings.current().settings,
        dynamodb=factory.home_client("dynamodb", region),
        table=config.audit_table or "",
        organizations=(lambda: factory.home_client("organizations")) if config.organization_id else None,
        cloudformation=lambda: factory.home_client("cloudformation", region),
        stack_set_name=stack_set_name,
    )
    return MemberSnapshots(
        store,
        accounts,
        clients,
        home_account=home_account,
        region=region,
        own_roles=config.member_roles,
        cloudtrail_in=cloudtrail_in,
        forwarding=MemberForwarding(
            config.central_bus_arn,
            region,
            home_account,
            dict(config.member_role_kinds),
            stack_set_name=stack_set_name,
        ),
        events_in=lambda account: factory.client("events", account, region),
        cloudwatch_in=lambda account: factory.client("cloudwatch", account, region),
        coverage=coverage,
        client_in=factory.client,
        public_access_seed=_member_public_access_seed(factory, region, lambda: settings.current().settings, store),
    )


def build_deploy_snapshot(session: Any = None, environ: Mapping[str, str] | None = None) -> DeploySnapshot:
    """The stack's snapshot custom resource, answered by the heartbeat function (``app.deploy_snapshot``).

    The heartbeat is built when a request arrives, inside the answer: a configuration error becomes a reason in
    the answer to CloudFormation, never an unanswered request.
    """
    env = os.environ if environ is None else environ

    def build() -> tuple[SnapshotTaker | None, Heartbeat]:
        heartbeat = build_heartbeat(session, env)
        if heartbeat.snapshots is None:
            return None, heartbeat
        return DeployTakers(heartbeat.snapshots, heartbeat.own_policies, heartbeat.functions), heartbeat

    stack = env.get("IAMWARDEN_STACK_NAME") or "iamwarden"
    account, region = env.get("IAMWARDEN_HOME_ACCOUNT") or None, env.get("AWS_REGION") or None

    def refuse(request: Mapping[str, Any]) -> str | None:
        cloudformation = (session or aws_session()).client("cloudformation", region_name=region, config=retry_config())
        return own_stack_refusal(request, cloudformation, stack, account, region)

    return DeploySnapshot(build, physical_id=f"{stack}-deploy-snapshot", refuse=refuse)


def own_stack_refusal(
    request: Mapping[str, Any], cloudformation: Any, stack: str, account: str | None, region: str | None
) -> str | None:
    """Why ``request`` is not CloudFormation's for the own stack being deployed, or None when it is.

    Its ``StackId`` must be the own stack's (name, account, region, and the live stack's id), and the stack must be
    in an operation (``*_IN_PROGRESS``, ``cloudformation:DescribeStacks``): a payload can be forged by anyone who may
    invoke the heartbeat, the stack's status cannot.
    """
    stack_id = str(request.get("StackId") or "")
    parts = stack_id.split(":", 5)
    resource = parts[5].split("/") if len(parts) == 6 else []
    if (
        parts[2:3] != ["cloudformation"]
        or len(resource) < 3
        or resource[:2] != ["stack", stack]
        or (account is not None and parts[4] != account)
        or (region is not None and parts[3] != region)
    ):
        return f"the request names the stack {stack_id or '(none)'}, not IAM Warden's own {stack}"
    try:
        stacks = cloudformation.describe_stacks(StackName=stack).get("Stacks", [])
    except Exception as exc:
        return f"the stack {stack} cannot be read ({error_code(exc) or exc}): the request is not known to be its own"
    live = next((found for found in stacks if found.get("StackId") == stack_id), None)
    if live is None:
        return f"the request names {stack_id}, which is not the live stack {stack}"
    status = str(live.get("StackStatus", ""))
    if not status.endswith("_IN_PROGRESS"):
        return f"the stack {stack} is {status or 'in no operation'}, not being deployed: CloudFormation sent no request"
    return None
