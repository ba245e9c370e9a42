"""The circuit breaker: when remediations come faster than anyone would expect, stop and ask.

A misconfigured rule, a bad settings change or a bug can make the enforcer revert
good changes one after another. More than ``max_remediations`` remediations within
``window_minutes``, in one account or in total, trips the breaker: the enforcer
switches to alert-only (the SSM kill switch ``<prefix>/enforcement`` is set to
``off``), sends one critical alert, and stays so until an operator resets it
(``iamwarden breaker reset``, or the parameter set back to ``on``).

Only remediations since the kill switch was last switched on count, so a reset
starts from zero instead of tripping again on the burst that tripped it.

This module decides; ``iamwarden.adapters.breaker`` keeps the ledger and the switch.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import NamedTuple

DEFAULT_MAX_REMEDIATIONS = 10
DEFAULT_WINDOW_MINUTES = 15
#: The value of the kill switch that lets the enforcer remediate; anything else means alert-only.
SWITCH_ON = "on"
SWITCH_OFF = "off"
TOTAL_SCOPE = "total"


def kill_switch_name(settings_prefix: str) -> str:
    """The SSM parameter that switches remediation on or off (template.yaml's KillSwitchParameter)."""
    return f"{settings_prefix.rstrip('/')}/enforcement"


class BreakerSettings(NamedTuple):
    max_remediations: int = DEFAULT_MAX_REMEDIATIONS
    window_minutes: int = DEFAULT_WINDOW_MINUTES

    @property
    def window(self) -> timedelta:
        return timedelta(minutes=self.window_minutes)


class LedgerEntry(NamedTuple):
    """One remediation the enforcer started: when, and its id (a retry of the same one counts once)."""

    at: datetime
    remediation_id: str

    def encode(self) -> str:
        return f"{self.at.isoformat()}|{self.remediation_id}"

    @classmethod
    def decode(cls, text: str) -> "LedgerEntry | None":
        """None for an entry that does not parse (never trusted, never fatal)."""
        at, _, remediation_id = text.partition("|")
        try:
            when = datetime.fromisoformat(at)
        except ValueError:
            return None
        if when.tzinfo is None or not remediation_id:
            return None
        return cls(when, remediation_id)


class BreakerDecision(NamedTuple):
    """May this remediation run? If not, why, and whether this very call tripped the breaker."""

    allowed: bool
    reason: str = ""
    tripped: bool = False
    scope: str | None = None
    observed: int = 0
    #: The brake's own state could not be read or written: held now, and the event is failed so that it
    #: is retried and, once an operator has fixed the cause, replayed from the dead-letter queue.
    unreadable: bool = False


def count_in_window(
    entries: Iterable[LedgerEntry], *, now: datetime, settings: BreakerSettings, since: datetime | None
) -> int:
    """Distinct remediations within the window, and after the kill switch was last switched on."""
    start = now - settings.window
    if since is not None and since > start:
        start = since
    return len({entry.remediation_id for entry in entries if start <= entry.at <= now})


def decide(
    *,
    switch_value: str | None,
    counts: dict[str, int],
    settings: BreakerSettings,
) -> BreakerDecision:
    """The breaker's verdict for one remediation, given the kill switch and the counts including it.

    ``switch_value`` None means the switch does not exist (a stack without it): enforcement on.
    ``counts`` maps a scope (an account id, or ``total``) to its count in the window, this
    remediation included; more than ``max_remediations`` in any scope trips the breaker.
    """
    if switch_value is not None and switch_value.strip().lower() != SWITCH_ON:
        return BreakerDecision(
            False, f"enforcement is switched off (the kill switch is {switch_value.strip()!r}, not 'on')"
        )
    for scope, count in sorted(counts.items(), key=lambda item: (item[0] == TOTAL_SCOPE, item[0])):
        if count > settings.max_remediations:
            where = "in total" if scope == TOTAL_SCOPE else f"in account {scope}"
            reason = (
                f"the circuit breaker tripped: {count} remediations {where} within {settings.window_minutes} "
                f"minutes, more than the {settings.max_remediations} allowed"
            )
            return BreakerDecision(False, reason, tripped=True, scope=scope, observed=count)
    return BreakerDecision(True)
