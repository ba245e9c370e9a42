"""Which member (account, region) pairs the heartbeat watches, and in what turn (issue 15 items 2 and 4).

Forwarding is per account *and* region: each member stack instance forwards its region's events to the central bus.
So the heartbeat watches pairs, not accounts:

* **accounts**: with an organisation (``IAMWARDEN_ORGANIZATION_ID``), its ACTIVE accounts
  (``organizations:ListAccounts``, paged) and the ``managed_accounts`` setting; without one, ``managed_accounts``.
  An account whose ``accounts/<id>/mode`` is ``off`` is excluded explicitly (IAM Warden is told to leave it alone);
  the security account is checked apart. An organisation that cannot be listed is said (once a day) and the others
  are still watched.
* **regions**: the member StackSet's instances (``cloudformation:ListStackInstances``, as delegated administrator,
  then as its owner), each (account, region) with an instance is checked in that region. Each account also has a
  pair in the heartbeat's region, where its snapshots and trails are read. A region enabled for the account
  (``ec2:DescribeRegions`` through its snapshot role) with no instance is said once a day, with what is not seen
  there. Without the StackSet's instances (none listed, or none without an organisation), and for an account with
  no instance at all (the organisation's management account, where service-managed StackSets never deploy and the
  member template runs as a plain stack), the heartbeat's region and ``us-east-1`` (where IAM's events arrive) are
  checked. The management account (from the accounts' ARNs) is told to deploy the member template as a stack, never
  to add StackSet instances, in the enabled regions where no plain member stack is found: one is found by its
  forwarding rules (``events:DescribeRule`` through the snapshot role, ``plain_stack_regions``), read again at most
  once an hour and kept in the same record; the regions where one is found are then checked like a StackSet
  instance's (their forwarding, each in its region), and once every enabled region has one nothing more is said.
* **listing**: a whole listing of the organisation and the StackSet is kept in the same record and used again for
  an hour; one that failed is tried again the next run.
* **turn**: a run checks the next ``heartbeat/member_checks_per_run`` pairs after the cursor kept in the audit table
  (``heartbeat#member-coverage``), so every pair is checked within ``ceil(pairs / N)`` runs; a pair not checked
  within that period (and one run more) is a problem.

Pure bookkeeping here, and the three reads; the checks themselves are ``heartbeat.MemberSnapshots``'.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from iamwarden.adapters.errors import error_code
from iamwarden.domain.catalog import Mode
from iamwarden.domain.settings import Settings

#: The audit table item that holds the cursor, each pair's last check and the daily reports.
COVERAGE_KEY = "heartbeat#member-coverage"
#: The heartbeat's schedule: one run every 5 minutes.
RUN_PERIOD = timedelta(minutes=5)
#: How often a lasting state (a region without a member stack, a listing refused) is said again.
REPORT_EVERY = timedelta(days=1)
#: How long a whole listing of the organisation's accounts and the StackSet's instances is used again: 1,000 accounts
#: are 50 pages of ListAccounts, too many for every 5-minute run; a new account or instance is watched within it.
LISTING_EVERY = timedelta(hours=1)
#: Where IAM's, Organizations' and STS's (global services') events arrive.
GLOBAL_EVENTS_REGION = "us-east-1"
#: What a member stack instance forwards from a region besides the global services (member/template.yaml).
REGIONAL_EVENTS = (
    "the management events of the regional services the member stack forwards (S3, CloudTrail, GuardDuty, "
    "Config, Security Hub, IAM Roles Anywhere, Identity Center)"
)
#: The ``CallAs`` the member StackSet is listed with, in turn: the security account as the organisation's delegated
#: administrator of StackSets (README "AWS Organizations"), then as the StackSet's own account.
CALL_AS = ("DELEGATED_ADMIN", "SELF")
#: At most this many pairs are named in one problem (the count says the rest).
NAMED = 10


class Pair(NamedTuple):
    """One member account in one region; ``forwards``: a member stack instance is there (its rules are checked)."""

    account: str
    region: str
    forwards: bool = True

    @property
    def key(self) -> str:
        return f"{self.account}/{self.region}"


class Watched(NamedTuple):
    """What this run knows it must watch."""

    pairs: tuple[Pair, ...]
    #: account -> the regions of its member stack instances; None: not known (the fallback regions are checked).
    instances: Mapping[str, frozenset[str]] | None
    #: (report key, problem) said once a day: the organisation or the StackSet could not be listed.
    lasting: tuple[tuple[str, str], ...] = ()
    #: The organisation's management account (service-managed StackSets never deploy there); None: not known.
    management: str | None = None


def organization_accounts(organizations: Any) -> list[str]:
    """The organisation's ACTIVE accounts (a suspended, closing or not yet active account forwards nothing)."""
    return organization_listing(organizations)[0]


def organization_listing(organizations: Any) -> tuple[list[str], str | None]:
    """The organisation's ACTIVE accounts, and its management account (None: not known).

    ``State`` (botocore's ``organizations`` model, ``Account.State``: ``PENDING_ACTIVATION``, ``ACTIVE``, ...) and,
    where an answer lacks it, ``Status``, which the model says is retired on 9 September 2026. The management account
    is read from the accounts' ARNs, ``arn:<partition>:organizations::<management account>:account/<org>/<account>``
    (the Organizations service authorization reference's ARN format), so no other call is needed: it is the account
    whose ARN names itself as the management account.
    """
    accounts: list[str] = []
    management: str | None = None
    for page in organizations.get_paginator("list_accounts").paginate():
        for account in page.get("Accounts", []):
            if (account.get("State") or account.get("Status")) == "ACTIVE":
                accounts.append(str(account["Id"]))
            parts = str(account.get("Arn") or "").split(":")
            if len(parts) == 6 and parts[2] == "organizations" and parts[4] == str(account.get("Id")):
                management = parts[4]
    return accounts, management


def stack_set_instances(cloudformation: Any, name: str) -> dict[str, set[str]]:
    """account -> regions of the member StackSet's instances; raises the last refusal when no ``CallAs`` lists it."""
    refusal: Exception = LookupError(f"no CallAs lists the StackSet {name}")
    for call_as in CALL_AS:
        try:
            found: dict[str, set[str]] = {}
            paginator = cloudformation.get_paginator("list_stack_instances")
            for page in paginator.paginate(StackSetName=name, CallAs=call_as):
                for instance in page.get("Summaries", []):
                    found.setdefault(str(instance["Account"]), set()).add(str(instance["Region"]))
            return found
        except Exception as exc:
            refusal = exc
    raise refusal


def enabled_regions(ec2: Any) -> set[str]:
    """The regions enabled for the account ``ec2`` acts in (opt-in regions count once opted in)."""
    answer = ec2.describe_regions(AllRegions=False)
    return {
        str(region["RegionName"])
        for region in answer.get("Regions", [])
        if region.get("OptInStatus", "opt-in-not-required") in ("opt-in-not-required", "opted-in")
    }


class CoverageState:
    """The cursor, each pair's ``[last check, first seen]`` (epoch seconds, 0: never checked) and the daily reports
    (``key -> [epoch, what was said]``), one compressed item in the audit table (1,000 accounts in 17 regions: about
    200 KB of DynamoDB's 400 KB)."""

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        data = data or {}
        self.cursor: str = str(data.get("cursor") or "")
        self.pairs: dict[str, list[int]] = {
            str(k): [int(v[0]), int(v[1])] for k, v in (data.get("pairs") or {}).items()
        }
        self.reported: dict[str, list[Any]] = {str(k): list(v) for k, v in (data.get("reported") or {}).items()}
        #: The last whole listing of the organisation's accounts and the StackSet's instances, and when.
        self.listing: dict[str, Any] | None = data.get("listing") or None
        #: account -> ``{"at": epoch, "regions": [...]}``: where a plain member stack was found (the management
        #: account's, by its forwarding rules), and when that was read.
        self.plain: dict[str, dict[str, Any]] = {str(k): dict(v) for k, v in (data.get("plain") or {}).items()}

    def to_data(self) -> dict[str, Any]:
        return {
            "cursor": self.cursor,
            "pairs": self.pairs,
            "reported": self.reported,
            "listing": self.listing,
            "plain": self.plain,
        }

    def plain_regions(self, account: str, now: datetime | None = None) -> frozenset[str] | None:
        """The regions where ``account``'s plain member stack was found; None: never read, or (with ``now``) read
        more than ``LISTING_EVERY`` ago."""
        kept = self.plain.get(account)
        if not kept:
            return None
        if now is not None and now.timestamp() - float(kept.get("at", 0)) >= LISTING_EVERY.total_seconds():
            return None
        return frozenset(str(region) for region in kept.get("regions") or ())

    def found_plain(self, account: str, regions: Iterable[str], now: datetime, *, complete: bool = True) -> None:
        """Keep where ``account``'s plain member stack was found. ``complete`` False: some region could not be read,
        so the found ones are kept (paired and checked) but read again at the next turn (review s10 F7)."""
        self.plain[account] = {"at": int(now.timestamp()) if complete else 0, "regions": sorted(regions)}

    @classmethod
    def load(cls, dynamodb: Any, table: str) -> CoverageState:
        item = dynamodb.get_item(TableName=table, Key={"remediation_id": {"S": COVERAGE_KEY}}, ConsistentRead=True)
        blob = (item.get("Item") or {}).get("data", {}).get("B")
        return cls(json.loads(zlib.decompress(blob)) if blob else None)

    def save(self, dynamodb: Any, table: str, now: datetime) -> None:
        blob = zlib.compress(json.dumps(self.to_data(), sort_keys=True, separators=(",", ":")).encode(), 9)
        dynamodb.put_item(
            TableName=table,
            Item={
                "remediation_id": {"S": COVERAGE_KEY},
                "kind": {"S": "heartbeat-coverage"},
                "updated_at": {"S": now.isoformat(timespec="milliseconds")},
                "data": {"B": blob},
            },
        )

    def due(self, key: str, said: Any, now: datetime) -> bool:
        """Whether ``said`` under ``key`` is to be said now: never said, said a day ago or more, or something new."""
        last = self.reported.get(key)
        if last is None or now.timestamp() - float(last[0]) >= REPORT_EVERY.total_seconds():
            return True
        before = last[1] if len(last) > 1 else None
        if isinstance(said, list) and isinstance(before, list):
            return not set(said) <= set(before)
        return bool(said != before)

    def said(self, key: str, said: Any, now: datetime) -> None:
        self.reported[key] = [int(now.timestamp()), said]


class Coverage(NamedTuple):
    """What a run covered, for its answer and metrics."""

    pairs: int
    checked: int
    #: The age of the oldest check among the watched pairs (a pair never checked counts from when it was first seen).
    oldest_check_age_seconds: int
    #: Every pair is checked within this period.
    period_minutes: int

    def as_dict(self) -> dict[str, int]:
        return dict(self._asdict())


class MemberCoverage:
    """The pairs to watch, this run's turn of them, and what is said about coverage (module docstring)."""

    def __init__(
        self,
        *,
        home_account: str,
        region: str,
        settings: Callable[[], Settings],
        dynamodb: Any,
        table: str,
        organizations: Callable[[], Any] | None = None,
        cloudformation: Callable[[], Any] | None = None,
        stack_set_name: str = "iamwarden-member",
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.home_account = home_account
        self.region = region
        self.settings = settings
        self.dynamodb = dynamodb
        self.table = table
        #: The Organizations client (None: no organisation, the ``managed_accounts`` setting only).
        self.organizations = organizations
        self.cloudformation = cloudformation
        self.stack_set_name = stack_set_name
        self.now = now

    def watched(self, state: CoverageState | None = None) -> Watched:
        """Every pair to watch (sorted), from the settings, the organisation and the StackSet's instances (their
        listing kept in ``state`` for ``LISTING_EVERY``: an organisation's pages are many calls)."""
        settings = self.settings()
        excluded = {account for account, values in settings.accounts.items() if values.mode is Mode.OFF}
        organization, instances, lasting, management = self._listing(state)
        accounts = set(settings.managed_accounts) | set(organization or ())
        if instances is not None and organization is None:
            accounts |= set(instances)  # whoever has an instance is a member to watch
        accounts -= excluded | {self.home_account}
        pairs: set[Pair] = set()
        plain = {account: state.plain_regions(account) for account in accounts} if state is not None else {}
        for account in accounts:
            regions = instances.get(account) if instances is not None else None
            if not regions and plain.get(account):
                regions = set(plain[account] or ())  # its plain member stack's regions: checked like instances
            # No instance at all (the management account, where a plain member stack runs; or an account the
            # StackSet missed): the fallback regions are checked, as when no instance is listed.
            forwarding = set(regions) if regions else {self.region, GLOBAL_EVENTS_REGION}
            pairs |= {Pair(account, region) for region in forwarding}
            if self.region not in forwarding:
                pairs.add(Pair(account, self.region, forwards=False))  # its snapshots and trails are read here
        known = None if instances is None else {a: frozenset(r) for a, r in instances.items() if a in accounts}
        if known is not None:
            known |= {a: regions for a, regions in plain.items() if regions and not known.get(a)}
        return Watched(tuple(sorted(pairs)), known, tuple(lasting), management)

    def _listing(
        self, state: CoverageState | None
    ) -> tuple[list[str] | None, dict[str, set[str]] | None, list[tuple[str, str]], str | None]:
        """The organisation's accounts and the StackSet's instances (None: not listed), and what could not be
        listed; a whole listing is kept in ``state`` and used again for ``LISTING_EVERY``."""
        now = self.now().timestamp()
        kept = state.listing if state is not None else None
        if kept and now - float(kept.get("at", 0)) < LISTING_EVERY.total_seconds():
            kept_instances = kept.get("instances")
            return (
                kept.get("organization"),
                None if kept_instances is None else {str(a): set(r) for a, r in kept_instances.items()},
                [],
                kept.get("management"),
            )
        lasting: list[tuple[str, str]] = []
        organization: list[str] | None = None
        management: str | None = None
        if self.organizations is not None:
            try:
                organization, management = organization_listing(self.organizations())
            except Exception as exc:
                lasting.append(
                    (
                        "organization",
                        f"the organisation's accounts cannot be listed ({error_code(exc) or exc}): only the "
                        "managed_accounts setting and the member StackSet's instances are watched, an account in "
                        "neither is not (the security account must be a delegated administrator of the "
                        "organisation to call organizations:ListAccounts)",
                    )
                )
        instances: dict[str, set[str]] | None = None
        if self.cloudformation is not None:
            try:
                instances = stack_set_instances(self.cloudformation(), self.stack_set_name)
            except Exception as exc:
                # Without an organisation, member stacks may be plain stacks: no StackSet is no problem.
                if self.organizations is not None or error_code(exc) != "StackSetNotFoundException":
                    lasting.append(
                        (
                            "instances",
                            f"the member StackSet {self.stack_set_name}'s instances cannot be listed in "
                            f"{self.region} ({error_code(exc) or exc}): which regions of the member accounts forward "
                            f"is not known, only {', '.join(sorted({self.region, GLOBAL_EVENTS_REGION}))} are checked",
                        )
                    )
        if state is not None and not lasting:
            state.listing = {
                "at": int(now),
                "organization": organization,
                "management": management,
                "instances": None if instances is None else {a: sorted(r) for a, r in instances.items()},
            }
        return organization, instances, lasting, management

    def load(self) -> CoverageState:
        return CoverageState.load(self.dynamodb, self.table)

    def save(self, state: CoverageState) -> None:
        state.save(self.dynamodb, self.table, self.now())

    def turn(self, watched: Watched, state: CoverageState, per_run: int) -> list[Pair]:
        """The next ``per_run`` pairs after the cursor (wrapping around), each pair at most once."""
        pairs = list(watched.pairs)
        if len(pairs) <= per_run:
            return pairs
        start = next((n for n, pair in enumerate(pairs) if pair.key > state.cursor), 0)
        return [pairs[(start + n) % len(pairs)] for n in range(per_run)]

    def finish(
        self, watched: Watched, state: CoverageState, attempted: list[Pair], checked: Iterable[Pair], per_run: int
    ) -> tuple[list[str], Coverage]:
        """Record this run's checks in ``state`` (the cursor past every pair attempted), and say what is overdue."""
        now = int(self.now().timestamp())
        live = {pair.key for pair in watched.pairs}
        state.pairs = {key: value for key, value in state.pairs.items() if key in live}
        for pair in watched.pairs:
            state.pairs.setdefault(pair.key, [0, now])
        done = list(checked)
        for pair in done:
            state.pairs[pair.key][0] = now
        if attempted:
            state.cursor = attempted[-1].key
        runs = max(1, math.ceil(len(watched.pairs) / max(1, per_run)))
        period = RUN_PERIOD * runs
        allowed = (period + RUN_PERIOD).total_seconds()
        ages = {key: now - (last or seen) for key, (last, seen) in state.pairs.items()}
        tried = {pair.key for pair in attempted}
        overdue = sorted(key for key, age in ages.items() if age > allowed and key not in tried)
        problems = []
        if overdue:
            named = ", ".join(overdue[:NAMED]) + (f" and {len(overdue) - NAMED} more" if len(overdue) > NAMED else "")
            problems.append(
                f"{len(overdue)} member account/region pair(s) were not checked within {period.total_seconds() / 60:g} "
                f"minutes, the period every pair is checked in ({named}): their forwarding may be broken unseen "
                "(a run's time budget spent, or heartbeat/member_checks_per_run too low for the accounts' regions)"
            )
        coverage = Coverage(
            len(watched.pairs), len(done), max(ages.values(), default=0), int(period.total_seconds() / 60)
        )
        return problems, coverage

    def missing_regions(self, account: str, enabled: set[str], watched: Watched) -> str | None:
        """What is not seen in ``account``'s enabled regions without a member stack instance; None: all have one."""
        if watched.instances is None:
            return None
        missing = sorted(enabled - set(watched.instances.get(account, frozenset())))
        if not missing:
            return None
        if account == watched.management:
            found = sorted(set(watched.instances.get(account, frozenset())))
            text = (
                f"the organisation's management account {account} has no member stack in the enabled region(s) "
                f"{', '.join(missing)} (service-managed StackSets never deploy to the management account; a plain "
                f"stack of member/template.yaml, known by its forwarding rules, was found in "
                f"{', '.join(found) or 'no region'}): deploy member/template.yaml in it as a stack in each region it "
                f'uses (README "The management account"); {REGIONAL_EVENTS} there are not seen'
            )
            if GLOBAL_EVENTS_REGION in missing:
                text += f", nor its IAM changes (IAM's events arrive in {GLOBAL_EVENTS_REGION} only)"
            return f"{text} (said once a day)"
        text = (
            f"member account {account} has no instance of the member StackSet {self.stack_set_name} in the enabled "
            f"region(s) {', '.join(missing)}: {REGIONAL_EVENTS} there are not seen"
        )
        if GLOBAL_EVENTS_REGION in missing:
            text += (
                f"; IAM's, Organizations' and STS's events (global services) arrive in {GLOBAL_EVENTS_REGION} only, "
                "so none of this account's IAM changes are seen either"
            )
        else:
            text += f" (IAM's, Organizations' and STS's events arrive in {GLOBAL_EVENTS_REGION}, which forwards)"
        return (
            f"{text} (add them where the StackSet is administered: aws cloudformation create-stack-instances "
            f"--stack-set-name {self.stack_set_name} --deployment-targets OrganizationalUnitIds=<its OU>,"
            f"Accounts={account},AccountFilterType=INTERSECTION --regions {' '.join(missing)}; said once a day)"
        )
