"""The heartbeat: every 5 minutes, a synthetic check that IAM Warden's loop is whole, and an alert when it is not.

An intruder who disables the rule that would route the alert about disabling it (or sets the enforcer's
concurrency to 0, so nothing it is handed ever runs) silences ``iamwarden-tampered``. The heartbeat is a
separate function with its own read-only role: it checks that each of the stack's EventBridge rules exists,
is enabled and targets what it should (the enforcer, the central bus for the forwarder, the pruner's planner and
watch functions for its schedule and watch rules), that the central bus's policy still admits the organisation's
accounts (the statement the template declares), that the alert topic has a confirmed subscription, that the alert
key's policy, the topic's data protection and the central bus's key are as declared (``AlertPathCheck``), that the
enforcer may run (its reserved concurrency is not 0)
and that the enforcer's role has exactly the managed policies its template attaches (the remediation grants,
``IAMWARDEN_ENFORCER_POLICY_ARNS``): nothing more, nothing detached, each at the default version its stack deployed
(``app.own_policies``). Anything missing is one critical alert to the security topic. Its own schedule is
watched by ``iamwarden-tampered`` (``DisableRule`` on ``iamwarden-heartbeat``) and by a CloudWatch alarm on its
invocations.

Each run also refreshes the last-known-good snapshots that defense-evasion and persistence restores read
(``cloudtrail-logging-impaired``: the trails whose home is this account and region, and those homed in the
other regions this account's multi-region trails name, each read in its home region; ``permissions-boundary-weakened``:
every role's and user's boundary; ``identity-provider-unknown``: every OIDC provider's client ids and thumbprints and
every SAML provider's metadata; ``iamwarden-tampered``: the trust and inline policies of the stack's own roles, and
the delivery attributes of each confirmed subscription of the alert topic),
into the audit table. Only good trails are snapshotted, so a refresh never
records an attacker's state as the one to restore. A refresh that fails is one more problem in the alert: until it
works, restores use the previous snapshot, or only alert when there is none. The deploy takes the first
snapshots through the same refresh (``app.deploy_snapshot``, the stack's ``DeploySnapshot`` custom resource).
The managed member accounts' trails, boundaries and the member stack's own roles (``IAMWARDEN_MEMBER_ROLE_NAMES``)
are taken too (``MemberSnapshots``), through each account's read-only ``iamwarden-snapshot-reader`` role, a bounded
number a run, each keyed by that account's ARN.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol

from iamwarden.adapters.audit import AuditLog
from iamwarden.adapters.clients import ClientFactory, aws_session, retry_config
from iamwarden.adapters.errors import error_code, is_gone
from iamwarden.adapters.recorded import (
    AuditRecorded,
    snapshot_key,
    take_boundary_snapshots,
    take_identity_provider_snapshots,
    take_own_role_snapshots,
    take_subscription_snapshots,
    take_trail_snapshots,
    take_trust_snapshots,
    trail_home_regions,
)
from iamwarden.adapters.ssm_settings import SsmSettingsSource, ssm_parameters
from iamwarden.app.deploy_snapshot import DeploySnapshot, SnapshotTaker
from iamwarden.app.own_policies import DeployTakers, OwnPolicyWatch
from iamwarden.domain import declared
from iamwarden.domain.catalog import Mode
from iamwarden.domain.exceptions import ConfigurationError
from iamwarden.domain.own import (
    CENTRAL_BUS_STATEMENT_ID,
    REGION_PLACEHOLDER,
    SNAPSHOT_SESSION,
    OwnIdentity,
    admits_only_the_stack,
    parse_own_roles,
)
from iamwarden.domain.recorded import OWN_ROLE, Snapshot
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.tampering import policy_statement, same_statement

#: The stack's default-bus rules whose target is not the enforcer.
FORWARDER = "iamwarden-forward-own-events"
SCHEDULE = "iamwarden-heartbeat"
PRUNE_SCHEDULE = "iamwarden-prune-schedule"
PRUNE_WATCH = "iamwarden-prune-watch"
EXCEPTION_WATCH = "iamwarden-exception-watch"
#: The rule that must never be off (``Heartbeat.guard_settings_problems``).
TAMPERED = "iamwarden-tampered"


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
    ) -> None:
        self.store = store
        self.own_roles = own_roles
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

    def refresh(self) -> tuple[int, list[str]]:
        """How many snapshots were stored, and what could not be refreshed (one failure does not stop the other)."""
        now = self.clock()
        stored, problems = 0, []
        takers: tuple[tuple[str, Callable[[], list[Snapshot]]], ...] = (
            ("trails", lambda: take_trail_snapshots(self.cloudtrail, self.account, self.region, now)),
            ("permissions boundaries", lambda: take_boundary_snapshots(self.iam, self.account, now)),
            ("role trust policies", lambda: take_trust_snapshots(self.iam, self.account, now)),
            ("identity providers", lambda: take_identity_provider_snapshots(self.iam, self.account, now)),
            (
                "own roles",
                lambda: self.same_roles(take_own_role_snapshots(self.iam, self.own_roles, self.account, now)),
            ),
        )
        if self.sns is not None and self.topic_arn:
            sns, topic = self.sns, self.topic_arn
            takers += (("alert topic's subscriptions", lambda: take_subscription_snapshots(sns, topic, now)),)
        self.replaced_roles = []
        for what, take in takers:
            try:
                stored += self.store.put_all(take())
            except Exception as exc:
                problems.append(
                    f"the snapshots of the {what} of {self.account} in {self.region} cannot be refreshed "
                    f"({error_code(exc) or exc}): a restore falls back to the previous one, or only alerts"
                )
        elsewhere, failures = self.refresh_trails_elsewhere(now)
        return stored + elsewhere, problems + self.replaced_roles + failures

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
        for snapshot in snapshots:
            before = read(OWN_ROLE, snapshot.resource_arn) if read is not None else None
            known = before.data.get("role_id") if before is not None else None
            now = snapshot.data.get("role_id")
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
            kept.append(snapshot)
        return kept

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
        return stored, problems


#: Where IAM's (and Organizations') events arrive: the member stack forwards them from this region only
#: (``iamwarden-forward-iam``, its condition ``InIamRegion``; ``IamRegion`` defaults to it).
IAM_REGION = "us-east-1"
#: The target id the member template gives each forwarding rule's one target.
MEMBER_TARGET_ID = "central-bus"


class MemberForwarding:
    """Checks a member account's forwarding rules against the member template: each exists, is enabled, has the
    declared pattern, and has exactly the declared target (the central bus, through the member forwarder role of
    that account and region, the event passed on unchanged).

    Read through the account's ``iamwarden-snapshot-reader`` role (``events:DescribeRule`` and
    ``events:ListTargetsByRule`` on the four rules). Each problem names the StackSet command that puts it back.
    """

    def __init__(self, central_bus_arn: str, region: str, home_account: str, member_roles: Mapping[str, str]) -> None:
        self.central_bus_arn = central_bus_arn
        self.region = region
        self.own = OwnIdentity(home_account=home_account)
        #: kind -> name of the member stack's roles (``IAMWARDEN_MEMBER_ROLE_NAMES``): the patterns name two.
        self.member_roles = member_roles

    def rules(self) -> list[str]:
        """The member stack's rules in the heartbeat's region (the IAM forwarder only where IAM's events arrive)."""
        names = sorted(declared.MEMBER_RULE_PATTERNS)
        return names if self.region == IAM_REGION else [n for n in names if n != "iamwarden-forward-iam"]

    def declared_pattern(self, rule: str, account: str, partition: str) -> Any:
        text = declared.MEMBER_RULE_PATTERNS[rule]
        for placeholder, value in (
            ("${AWS::Partition}", partition),
            ("${AWS::AccountId}", account),
            ("${AWS::Region}", self.region),
            ("${MemberRoleName}", self.member_roles.get("remediator", "iamwarden-remediator")),
            ("${PrunerMemberRoleName}", self.member_roles.get("pruner-member", "iamwarden-pruner-member")),
        ):
            text = text.replace(placeholder, value)
        return json.loads(text)

    def problems(self, account: str, events: Any) -> list[str]:
        """What is missing or changed in ``account``'s forwarding, each with the way back; empty when whole."""
        partition = self.central_bus_arn.split(":")[1] if self.central_bus_arn.startswith("arn:") else "aws"
        fix = self.own.redeploy_command(account, self.region)
        problems: list[str] = []
        for rule in self.rules():
            found = [f"{what} ({fix})" for what in self._rule_problems(account, events, rule, partition)]
            problems.extend(f"in member account {account}, {problem}" for problem in found)
        return problems

    def _rule_problems(self, account: str, events: Any, rule: str, partition: str) -> list[str]:
        try:
            found = events.describe_rule(Name=rule)
        except Exception as exc:
            if is_gone(exc):
                return [f"the forwarding rule {rule} is gone: that account's changes no longer reach IAM Warden"]
            return [f"the forwarding rule {rule} cannot be read ({error_code(exc) or exc})"]
        problems = []
        if found.get("State") != "ENABLED":
            problems.append(f"the forwarding rule {rule} is {str(found.get('State', 'not enabled')).lower()}")
        try:
            pattern = json.loads(found.get("EventPattern") or "null")
        except ValueError:
            pattern = None
        if pattern != self.declared_pattern(rule, account, partition):
            problems.append(f"the forwarding rule {rule} has another pattern than the member template declares")
        targets = events.list_targets_by_rule(Rule=rule).get("Targets", [])
        role = f"arn:{partition}:iam::{account}:role/iamwarden-member-forwarder-{self.region}"
        wanted = [t for t in targets if t.get("Arn") == self.central_bus_arn]
        if not wanted:
            problems.append(f"the forwarding rule {rule} no longer targets the central bus {self.central_bus_arn}")
        for target in targets:
            named = f" (target {target.get('Id')})"
            if target.get("Arn") != self.central_bus_arn:
                problems.append(f"the forwarding rule {rule} also targets {target.get('Arn')}{named}")
                continue
            if overridden := [field for field in ("Input", "InputPath", "InputTransformer") if target.get(field)]:
                problems.append(
                    f"the forwarding rule {rule} passes {'/'.join(overridden)} instead of the event{named}: what it "
                    "forwards never reaches IAM Warden as it happened"
                )
            if target.get("RoleArn") != role:
                problems.append(
                    f"the forwarding rule {rule} forwards through {target.get('RoleArn') or 'no role'}, not the "
                    f"member template's {role}{named}"
                )
        return problems


#: At most this many member accounts are snapshotted per run (each is a role assumption and a handful of reads,
#: and the heartbeat has 30 seconds); with more, each run takes the next ones in turn, so every account is
#: refreshed every ``ceil(accounts / MEMBER_ACCOUNTS_PER_RUN)`` runs.
MEMBER_ACCOUNTS_PER_RUN = 10
#: Seconds the member accounts may take a run: the heartbeat's 30-second timeout must leave room for its alert,
#: so the accounts not reached in time wait for a later run (they are not a problem: nothing is broken).
MEMBER_SNAPSHOT_BUDGET_SECONDS = 15.0


def _turn() -> int:
    """Which turn this run is (one per 5-minute schedule period): picks the member accounts taken this run."""
    return int(datetime.now(UTC).timestamp() // 300)


class MemberSnapshots:
    """The trail, boundary and own-role snapshots of the managed member accounts, through their snapshot role.

    The member stack's own roles (``own_roles``, at path ``/``) are read there and keyed by that account's ARN of
    each, so ``iamwarden-tampered`` restores a member role's trust or inline policy from its own account's
    snapshot only.

    Bounded: at most ``per_run`` accounts a run, taken in turn. An account that cannot be reached or read is one
    problem naming it in the heartbeat's alert; the other accounts are still taken and the run never fails.
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
    ) -> None:
        self.store = store
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

    def refresh(self) -> tuple[int, list[str]]:
        try:
            accounts = self.chosen(self.accounts())
        except Exception as exc:
            return 0, [f"the managed accounts cannot be read ({error_code(exc) or exc}): no member account's snapshots"]
        stored, problems = 0, []
        started = self.monotonic()
        self.deferred = []
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
            refresh = SnapshotRefresh(
                self.store,
                cloudtrail,
                iam,
                account,
                region=self.region,
                own_roles=self.own_roles,
                clock=self.clock,
                cloudtrail_in=self._cloudtrail_in(account),
                home_account=self.home_account,
            )
            count, failures = refresh.refresh()
            stored += count
            problems += failures
            problems += self.forwarding_problems(account)
        return stored, problems

    def forwarding_problems(self, account: str) -> list[str]:
        """The account's forwarding rules against the member template (``MemberForwarding``); one problem when
        they cannot be read at all."""
        if self.forwarding is None or self.events_in is None:
            return []
        try:
            return self.forwarding.problems(account, self.events_in(account))
        except Exception as exc:
            return [
                f"the forwarding rules of member account {account} cannot be checked ({error_code(exc) or exc}): "
                f"{self.forwarding.own.redeploy_command(account, self.region)}"
            ]


class Heartbeat:
    """Checks the loop with read-only calls and publishes one alert listing what is missing."""

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
    ) -> None:
        self.config = config
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

    def problems(self) -> list[str]:
        """Every part of the loop that is missing or switched off, in plain words; empty when it is whole."""
        found: list[str] = []
        for key in self.config.rules:
            found.extend(self._rule_problems(key))
        found.extend(self._enforcer_problems())
        found.extend(self.guard_settings_problems())
        found.extend(self._bus_policy_problems())
        found.extend(self._subscription_problems())
        if self.alert_path is not None:
            found.extend(self.alert_path.problems())
        return found

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
        """Check, refresh the snapshots, alert if anything is missing, and say what was found (the handler's answer)."""
        problems = self.problems()
        refreshed: dict[str, int] = {}
        for refresh in (self.snapshots, self.member_snapshots):
            if refresh is not None:
                stored, failures = refresh.refresh()
                problems += failures
                refreshed["snapshots"] = refreshed.get("snapshots", 0) + stored
        if self.own_policies is not None:
            stored, failures = self.own_policies.check()
            problems += failures
            refreshed["snapshots"] = refreshed.get("snapshots", 0) + stored
        if problems:
            self.alert_problems(problems)
        return {"whole": not problems, "problems": problems, **refreshed}

    def alert_problems(self, problems: list[str]) -> None:
        """Publish the critical alert listing ``problems`` (the deploy's snapshot reports through it too)."""
        self.sns.publish(**self.alert(problems))

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
        return {
            "TopicArn": self.config.topic_arn,
            "Subject": "IAM Warden heartbeat: the guard is not whole",
            "Message": text,
            "MessageAttributes": {
                "rule": {"DataType": "String", "StringValue": "iamwarden-tampered"},
                "severity": {"DataType": "String", "StringValue": "critical"},
                "outcome": {"DataType": "String", "StringValue": "heartbeat_failed"},
            },
        }

    def _rule_problems(self, key: str) -> list[str]:
        bus, _, name = key.rpartition("/")
        arguments = {"Name": name, **({"EventBusName": bus} if bus else {})}
        try:
            rule = self.events.describe_rule(**arguments)
        except Exception as exc:
            if is_gone(exc):
                return [f"the rule {key} is gone"]
            return [f"the rule {key} cannot be read ({error_code(exc) or exc})"]
        problems = []
        if rule.get("State") != "ENABLED":
            problems.append(f"the rule {key} is {str(rule.get('State', 'not enabled')).lower()}")
        if name == SCHEDULE and not bus:
            return problems  # it runs this check: its target is the heartbeat itself
        expected = self._expected_target(name, bus)
        if expected is None:
            return problems  # a pruner rule whose function the environment does not name: state checked only
        targets = self.events.list_targets_by_rule(Rule=name, **_bus(bus))["Targets"]
        if expected not in [target.get("Arn") for target in targets]:
            problems.append(f"the rule {key} no longer targets {expected}")
        problems.extend(self._declared_target_problems(key, name, bus, expected, targets))
        return problems

    def _declared_target_problems(
        self, key: str, name: str, bus: str, expected: str, targets: list[dict[str, Any]]
    ) -> list[str]:
        """Each whole target against the template's declaration: the one ARN it declares, the event passed on
        unchanged (no ``Input``/``InputPath``/``InputTransformer``: a constant input silences the rule while it
        stays enabled), and the forwarder's role."""
        problems = []
        for target in targets:
            arn, target_id = target.get("Arn"), target.get("Id")
            named = f" (target {target_id})" if target_id else ""
            if arn != expected:
                problems.append(f"the rule {key} also targets {arn}{named}, which its template does not")
                continue
            if overridden := [field for field in ("Input", "InputPath", "InputTransformer") if target.get(field)]:
                problems.append(
                    f"the rule {key} passes {'/'.join(overridden)} to {arn} instead of the event{named}: what it "
                    "routes never reaches IAM Warden as it happened"
                )
            role = self.config.forwarder_role_arn
            if not bus and name == FORWARDER and role and target.get("RoleArn") != role:
                problems.append(
                    f"the rule {key} forwards through {target.get('RoleArn') or 'no role'}, not the template's {role}"
                )
        return problems

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

    def _bus_policy_problems(self) -> list[str]:
        """The central bus's policy must hold the statement admitting the organisation, exactly as declared."""
        arn = self.config.central_bus_arn
        parts = arn.split(":", 5)
        if self.config.organization_id is None or len(parts) < 6:
            return []  # no organisation: the template declares no bus policy
        bus = parts[5].rsplit("/", 1)[-1]
        own = OwnIdentity(home_account=parts[4], central_bus=bus, organization_id=self.config.organization_id)
        declared = own.declared_bus_statement(parts[1], parts[3])
        try:
            found = self.events.describe_event_bus(Name=bus)
        except Exception as exc:
            return [f"the central bus {bus} " + ("is gone" if is_gone(exc) else f"cannot be read ({exc})")]
        policy = json.loads(found["Policy"]) if found.get("Policy") else None
        if declared is not None and not same_statement(policy_statement(policy, CENTRAL_BUS_STATEMENT_ID), declared):
            return [
                f"the central bus {bus} no longer has the policy statement {CENTRAL_BUS_STATEMENT_ID} its template "
                f"declares (the organisation {self.config.organization_id} may put events): every member account's "
                "events are refused"
            ]
        return []

    def _subscription_problems(self) -> list[str]:
        """The alert topic must have a confirmed subscription: without one every alert reaches no one."""
        topic = self.config.topic_arn
        try:
            subscriptions = [
                subscription
                for page in self.sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic)
                for subscription in page.get("Subscriptions", [])
            ]
        except Exception as exc:
            return [f"the alert topic {topic} " + ("is gone" if is_gone(exc) else f"cannot be read ({exc})")]
        if not any(s.get("SubscriptionArn", "").startswith("arn:") for s in subscriptions):
            return [
                f"the alert topic {topic} has no confirmed subscription: alerts reach no one (this one is only "
                "in the heartbeat's log)"
            ]
        return []


class AlertPathCheck:
    """The alert path's quieter switches, each against what the template declares (audit s6 gaps 1 and 7).

    * the alert key's policy (``kms:GetKeyPolicy``): the declared one (``OwnIdentity.declared_alert_key_policy``); a
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

    def problems(self) -> list[str]:
        return [*self._key_policy_problems(), *self._data_protection_problems(), *self._bus_problems()]

    def declared_key_policy(self) -> dict[str, Any] | None:
        key = self.config.alert_key_arn
        parts = (key or "").split(":")
        if key is None or len(parts) < 6:
            return None
        own = OwnIdentity(home_account=parts[4], home_roles=dict(self.config.own_role_arns), alert_key=key)
        return own.declared_alert_key_policy(parts[1])

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

    def _bus_problems(self) -> list[str]:
        arn = self.config.central_bus_arn
        bus = arn.rsplit("/", 1)[-1]
        try:
            found = self.events.describe_event_bus(Name=bus)
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
    sns = session.client("sns", config=retry_config())
    snapshots = None
    own_policies = None
    if config.audit_table and config.account and config.region:
        dynamodb = session.client("dynamodb", config=retry_config())
        recorded = AuditRecorded(AuditLog(config.audit_table, dynamodb), dynamodb)
        own_policies = OwnPolicyWatch(recorded, iam, config.enforcer_policy_arns)
        snapshots = SnapshotRefresh(
            recorded,
            session.client("cloudtrail", region_name=config.region, config=retry_config()),
            iam,
            config.account,
            region=config.region,
            own_roles=config.own_roles,
            cloudtrail_in=lambda region: session.client("cloudtrail", region_name=region, config=retry_config()),
            # The topic's own region (the stack's): its subscriptions are read where it is.
            sns=session.client("sns", region_name=_region_of(config.topic_arn, config.region), config=retry_config()),
            topic_arn=config.topic_arn,
        )
    member_snapshots = None
    if snapshots is not None and config.member_snapshot_role and config.settings_prefix:
        member_snapshots = _member_snapshots(session, config, snapshots.store)
    settings = None
    if config.settings_prefix:
        source = SsmSettingsSource(config.settings_prefix, ssm_parameters(session.client("ssm", config=retry_config())))

        def settings() -> Settings:
            return source.current().settings

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
    )


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

    return MemberSnapshots(
        store,
        accounts,
        clients,
        home_account=home_account,
        region=region,
        own_roles=config.member_roles,
        cloudtrail_in=cloudtrail_in,
        forwarding=MemberForwarding(config.central_bus_arn, region, home_account, dict(config.member_role_kinds)),
        events_in=lambda account: factory.client("events", account, region),
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
        return DeployTakers(heartbeat.snapshots, heartbeat.own_policies), heartbeat

    stack = env.get("IAMWARDEN_STACK_NAME") or "iamwarden"
    return DeploySnapshot(build, physical_id=f"{stack}-deploy-snapshot")
