"""Block Public Access records before the first call (issue 13 item 7; review s12 F3).

``s3-public-access-block-disabled`` compares each call with IAM Warden's record of the configuration before it. The
enforcer keeps one from every call it judges, but the first call on a bucket after deploy had none: a mixed call was
then alert-only, and an all-off call was remediated by turning all four on, possibly more than the call turned off.
The heartbeat (and the deploy, through the same refresh: ``app.deploy_snapshot``) reads them itself:

* the account's configuration (S3 Control ``GetPublicAccessBlock``), every run;
* the buckets' (``ListBuckets``, then ``GetPublicAccessBlock`` of each), at most ``heartbeat/
  public_access_block_buckets_per_run`` a run (default 100, 0: none), the next ones in turn (``buckets_this_turn``),
  within a time budget, so every bucket is read within ``ceil(buckets / N)`` runs of 5 minutes.

``NoSuchPublicAccessBlockConfiguration`` is a read: no configuration, all four off. A bucket whose read fails (a bucket
policy that denies the heartbeat, a throttle) gets no record, never a guessed one: it is logged and read again in its
next turn. Each record is dated no earlier than when its read ended (the refresh dates a batch when its last read
ended: later is the safe side, as a call made before that date finds the record no "before"), and stored only where
there is a gap (``is_gap``: no record, a deletion marker from before the run, or an expired record). A read never
replaces a record the enforcer kept: that may be the "before" of a turn-off whose event is still on its way, which
the read would show already (review pab-s13 F1/F3).

Member accounts are read the same way through their snapshot role (``MemberPublicAccessBlockSeed``), each with its
own cursor and ``per_run`` buckets; a member stack from before these reads (refused) is named, never a problem.
"""

from __future__ import annotations

import logging
import time
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from iamwarden.adapters.errors import error_code, is_access_denied, is_gone
from iamwarden.domain.arns import account_public_access_block_arn, bucket_arn
from iamwarden.domain.events import instant
from iamwarden.domain.recorded import PUBLIC_ACCESS_BLOCK, Snapshot
from iamwarden.domain.settings import HEARTBEAT_KEYS
from iamwarden.guardrails.public_access_block import S3_PUBLIC_ACCESS_BLOCK_DISABLED, SETTINGS

logger = logging.getLogger(__name__)

#: How many buckets a run reads unless the setting says otherwise.
DEFAULT_BUCKETS_PER_RUN = HEARTBEAT_KEYS["public_access_block_buckets_per_run"][0]
#: Seconds the bucket reads may take a run: the heartbeat has 30 seconds for everything it does; the buckets not read
#: in time wait for their next turn (nothing is broken: their calls are judged as without a record).
BUDGET_SECONDS = 5.0
#: The rule's ``record_max_age_days`` unless the settings say otherwise.
DEFAULT_MAX_AGE_DAYS = int(str(S3_PUBLIC_ACCESS_BLOCK_DISABLED.options["record_max_age_days"].default))
#: The snapshot kind under which the account's rotation cursor is kept (the last bucket a run reached).
CURSOR = "public-access-block-cursor"
#: How many unread buckets the heartbeat's answer names.
REPORTED = 5
_NO_CONFIGURATION = "NoSuchPublicAccessBlockConfiguration"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _turn() -> int:
    """Which turn this run is (one per 5-minute schedule period)."""
    return int(datetime.now(UTC).timestamp() // 300)


def buckets_this_turn(names: Iterable[str], per_run: int, turn: int) -> list[str]:
    """The buckets a run reads: all when they fit, else ``per_run`` of them (sorted by name) starting where the turn
    says, wrapping round, so consecutive runs read consecutive slices."""
    every = sorted(set(names))
    if per_run <= 0:
        return []
    if len(every) <= per_run:
        return every
    start = (turn * per_run) % len(every)
    return [every[(start + n) % len(every)] for n in range(per_run)]


def buckets_after(names: Iterable[str], per_run: int, after: str) -> list[str]:
    """The buckets a run reads with a saved cursor: up to ``per_run`` of them (sorted by name) from the first one
    after ``after``, the last bucket the previous run reached, wrapping round. A run cut short by its time budget
    saves where it stopped, so the next one starts there: every bucket is reached, whatever the reads' latency
    (review pab-s13 F2); a bucket added or removed shifts nothing."""
    every = sorted(set(names))
    if per_run <= 0 or not every:
        return []
    start = bisect_right(every, after) % len(every)
    return [every[(start + n) % len(every)] for n in range(min(per_run, len(every)))]


def is_gap(existing: Snapshot, read_started: str, now: str, max_age_days: int) -> bool:
    """Whether a read may replace ``existing``: a deletion marker from before the read began (the bucket listed and
    read since is a new one), or a record older than ``record_max_age_days`` (the rule counts it as none). Any other
    record, the enforcer's of a judged call above all, stays: a read dated after a turn-off whose event is still on
    its way would otherwise hide the "before" that call is judged against (review pab-s13 F1/F3)."""
    taken, started, at = instant(existing.taken_at), instant(read_started), instant(now)
    if taken is None:
        return False
    if existing.data.get("deleted") is True:
        return started is not None and taken < started
    return at is not None and at - taken > timedelta(days=max_age_days)


def configuration_of(answer: Mapping[str, Any]) -> dict[str, bool]:
    """The four settings of a ``GetPublicAccessBlock`` answer (a setting it leaves out is off)."""
    configuration = answer.get("PublicAccessBlockConfiguration") or {}
    return {name: configuration.get(name) is True for name in SETTINGS}


class PublicAccessBlockSeed:
    """Reads one account's Block Public Access configurations for the rule's records (``PUBLIC_ACCESS_BLOCK``)."""

    def __init__(
        self,
        s3: Any,
        s3control: Any,
        account: str,
        partition: str,
        *,
        s3_in: Callable[[str], Any] | None = None,
        per_run: Callable[[], int] = lambda: DEFAULT_BUCKETS_PER_RUN,
        max_age_days: Callable[[], int] = lambda: DEFAULT_MAX_AGE_DAYS,
        turn: Callable[[], int] = _turn,
        clock: Callable[[], str] = _now,
        budget_seconds: float = BUDGET_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
        cursor: Any | None = None,
        listing: Any | None = None,
    ) -> None:
        self.s3 = s3
        self.s3control = s3control
        #: ``region -> s3 client`` there: each bucket is read in its Region (``ListBuckets``' ``BucketRegion``), no
        #: redirect; None: every bucket through ``s3``.
        self.s3_in = s3_in
        self.account = account
        self.partition = partition
        self.per_run = per_run
        #: The rule's ``record_max_age_days``: a record older than that is a gap a read may fill (``is_gap``).
        self.max_age_days = max_age_days
        self.turn = turn
        self.clock = clock
        self.budget_seconds = budget_seconds
        self.monotonic = monotonic
        #: Where the last run stopped is kept (``snapshot``/``put``, the audit table: ``CURSOR`` of the account); None:
        #: the slice follows the schedule's turn (``buckets_this_turn``).
        self.cursor = cursor
        #: The client ``ListBuckets`` goes through (the house's retries: a failed listing is a heartbeat problem);
        #: None: ``s3``. The reads go through ``s3``/``s3_in``, with a short timeout and few attempts.
        self.listing = listing if listing is not None else s3
        #: How many buckets the account has, and how many the last run read (for the heartbeat's answer).
        self.listed = 0
        self.read = 0
        #: The last run's buckets whose read failed (``name (error)``), and those its budget left for a later run.
        self.unread: list[str] = []
        self.deferred: list[str] = []

    def take_account(self) -> list[Snapshot]:
        """The account's configuration (None when it has none); a failed read raises (a heartbeat problem)."""
        try:
            configuration: dict[str, bool] | None = configuration_of(
                self.s3control.get_public_access_block(AccountId=self.account)
            )
        except Exception as exc:
            if error_code(exc) != _NO_CONFIGURATION:
                raise
            configuration = None
        arn = account_public_access_block_arn(self.partition, self.account)
        return [self._record(arn, configuration)]

    def take_buckets(self) -> list[Snapshot]:
        """This turn's buckets' configurations; ``ListBuckets`` failing raises, one bucket failing leaves it out."""
        self.unread, self.deferred = [], []
        per_run = self.per_run()
        if per_run <= 0:
            return []
        regions = self._listed()
        self.listed, self.read = len(regions), 0
        chosen = (
            buckets_after(regions, per_run, self._after())
            if self.cursor is not None
            else buckets_this_turn(regions, per_run, self.turn())
        )
        budget, started = self._bucket_budget(), self.monotonic()
        snapshots = []
        for index, name in enumerate(chosen):
            if self.monotonic() - started > budget:
                self.deferred = chosen[index:]
                logger.warning(
                    "Block Public Access of %d buckets left for a later run (time budget)", len(chosen) - index
                )
                break
            self.read = index + 1
            client = self.s3_in(regions[name]) if self.s3_in is not None and regions[name] else self.s3
            try:
                configuration: dict[str, bool] | None = configuration_of(client.get_public_access_block(Bucket=name))
            except Exception as exc:
                if error_code(exc) == _NO_CONFIGURATION:
                    configuration = None
                elif is_gone(exc):
                    continue  # deleted since it was listed: DeleteBucket's own record says so
                else:
                    self.unread.append(f"{name} ({error_code(exc) or exc})")
                    continue
            snapshots.append(self._record(bucket_arn(self.partition, name), configuration))
        if self.read:
            self._save(chosen[self.read - 1])
        if self.unread:
            logger.warning("Block Public Access not read (no record kept): %s", ", ".join(self.unread))
        return snapshots

    def _bucket_budget(self) -> float:
        """The bucket loop's budget, taken once the buckets are listed."""
        return self.budget_seconds

    def report(self) -> dict[str, Any]:
        """What the last run covered, for the heartbeat's answer and log (review pab-s13 F6): the buckets listed,
        read, not read (how many, the first few with why), and left for a later run by the time budget."""
        return {
            "buckets": self.listed,
            "read": self.read - len(self.unread),
            "not_read": len(self.unread),
            "not_read_first": self.unread[:REPORTED],
            "deferred": len(self.deferred),
        }

    def _after(self) -> str:
        """The last bucket the previous run reached ("" at first, or when it cannot be read: start at the top)."""
        try:
            saved = self.cursor.snapshot(CURSOR, self.account) if self.cursor is not None else None
        except Exception as exc:
            logger.warning("Block Public Access cursor not read (%s): starting at the first bucket", exc)
            return ""
        after = saved.data.get("after") if saved is not None else None
        return after if isinstance(after, str) else ""

    def _save(self, last: str) -> None:
        """Keep where this run stopped; a failed write only repeats this run's slice next time (logged)."""
        if self.cursor is None:
            return
        try:
            self.cursor.put(Snapshot(CURSOR, self.account, self.clock(), {"after": last}))
        except Exception as exc:
            logger.warning("Block Public Access cursor not saved (%s): the next run reads this run's buckets", exc)

    def _listed(self) -> dict[str, str]:
        """Every bucket of the account, with its Region where ``ListBuckets`` says it ("" where not)."""
        pages: Sequence[Mapping[str, Any]]
        pages = (
            list(self.listing.get_paginator("list_buckets").paginate())
            if self.listing.can_paginate("list_buckets")
            else [self.listing.list_buckets()]
        )
        return {
            str(bucket["Name"]): str(bucket.get("BucketRegion") or "")
            for page in pages
            for bucket in page.get("Buckets", [])
            if bucket.get("Name")
        }

    def _record(self, arn: str, configuration: dict[str, bool] | None) -> Snapshot:
        """Dated when the read ended: a call made while it was read may show in it, so it is no "before" for that
        call (the rule requires a record from before the call's second)."""
        return Snapshot(
            PUBLIC_ACCESS_BLOCK, arn, self.clock(), {"configuration": configuration, "account": self.account}
        )


#: What the heartbeat's answer and log say of a member account whose snapshot role is refused these reads: a stack
#: from before them, or an organisation policy (SCP) or a boundary that denies them: AccessDenied cannot tell which.
NEEDS_UPDATE = "member stack needs an update, or an SCP/boundary refuses the read"
#: What they say of a member account the run's time budget did not reach: the next run starts with it.
DEFERRED_ACCOUNT = (
    "not read this run (time budget): it goes before every account read since, the next time its snapshots are taken"
)


class MemberPublicAccessBlockSeed(PublicAccessBlockSeed):
    """A member account's reads through its snapshot role: the same rules as the home account's (gaps only, its own
    cursor). A member stack deployed before its snapshot role had these reads is refused them (AccessDenied), as is
    one where an SCP or a boundary denies them: that account is named (``NEEDS_UPDATE``) in the answer and log, its
    buckets are not read, and the run goes on; any other failure is the heartbeat problem it is at home."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: The refused call of the last run (``s3:GetAccountPublicAccessBlock (AccessDenied)``); None: not refused.
        self.refused: str | None = None
        #: When (``monotonic``) the run's member bucket reads must stop, shared by every member account of the run:
        #: the bucket loop gets what is left once the buckets are listed (``_bucket_budget``); None: its own
        #: ``budget_seconds``.
        self.deadline: float | None = None

    def take_account(self) -> list[Snapshot]:
        self.refused = None
        self.listed, self.read, self.unread, self.deferred = 0, 0, [], []
        try:
            return super().take_account()
        except Exception as exc:
            if not is_access_denied(exc):
                raise
            self.refused = f"s3:GetAccountPublicAccessBlock ({error_code(exc)})"
            logger.warning("Block Public Access of member account %s not read: %s", self.account, self.refused)
            return []

    def take_buckets(self) -> list[Snapshot]:
        if self.refused is not None:
            return []  # the stack is not updated: its buckets are refused too
        try:
            return super().take_buckets()
        except Exception as exc:
            if not is_access_denied(exc):
                raise
            self.refused = f"s3:ListAllMyBuckets ({error_code(exc)})"
            logger.warning("Block Public Access of member account %s not read: %s", self.account, self.refused)
            return []

    def _bucket_budget(self) -> float:
        """What is left of the run's deadline once ``ListBuckets`` has answered: a slow listing is not counted a
        second time as bucket reads (second review of bpamember-s14, R2)."""
        if self.deadline is None:
            return super()._bucket_budget()
        return max(0.0, self.deadline - self.monotonic())

    def report(self) -> dict[str, Any]:
        """As at home, or, when refused, that the member stack needs an update and which call was refused."""
        if self.refused is not None:
            return {"needs_update": f"{NEEDS_UPDATE} (its snapshot role is refused {self.refused})"}
        return super().report()
