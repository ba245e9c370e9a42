"""The circuit breaker in front of every remediation: count, decide, trip once.

``CircuitBreaker.permit`` is called by the enforcer right before a plan runs. It
reads the kill switch fresh, appends the remediation to the account's and the
total ledger, and asks ``domain.breaker.decide``. When a call trips the breaker it
switches the kill switch off (so every container, and every later event, is
alert-only) and says so, so the service sends the one critical alert.

If the breaker's own state cannot be read or written, the enforcer does not
remediate: it alerts, because acting without the brake is a guess. A transient
failure (throttled, a 5xx, a timeout) is raised instead, so Lambda retries the
event and a hiccup does not turn a remediation into an alert.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import NamedTuple

from iamwarden.adapters.breaker import TRIM_AT, BreakerStateError, KillSwitch, RemediationLedger, SwitchState
from iamwarden.domain.breaker import (
    SWITCH_OFF,
    SWITCH_ON,
    TOTAL_SCOPE,
    BreakerDecision,
    BreakerSettings,
    LedgerEntry,
    count_in_window,
    decide,
)


def utc_now() -> datetime:
    return datetime.now(UTC)


class BreakerStatus(NamedTuple):
    """What ``iamwarden breaker status`` shows."""

    switch: SwitchState
    counts: dict[str, int]
    settings: BreakerSettings


class CircuitBreaker:
    def __init__(
        self, ledger: RemediationLedger, switch: KillSwitch, *, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self.ledger = ledger
        self.switch = switch
        self._clock = clock

    def permit(self, account: str, remediation_id: str, settings: BreakerSettings) -> BreakerDecision:
        """May the remediation ``remediation_id`` in ``account`` run now?"""
        try:
            state = self.switch.read()
            if not state.on:
                return decide(switch_value=state.value, counts={}, settings=settings)
            now = self._clock()
            entry = LedgerEntry(now, remediation_id)
            counts = {}
            for scope in (account, TOTAL_SCOPE):
                entries = self.ledger.append(scope, entry)
                counts[scope] = count_in_window(entries, now=now, settings=settings, since=state.modified)
                if len(entries) > TRIM_AT:
                    start = now - settings.window
                    self.ledger.trim(scope, [kept for kept in entries if kept.at >= start], len(entries))
            decision = decide(switch_value=state.value, counts=counts, settings=settings)
            if decision.tripped:
                self.switch.set(SWITCH_OFF, f"IAM Warden circuit breaker at {now.isoformat()}: {decision.reason}")
        except BreakerStateError as exc:
            return BreakerDecision(
                False, f"the circuit breaker's state could not be read or written ({exc})", unreadable=True
            )
        return decision

    def status(self, settings: BreakerSettings) -> BreakerStatus:
        state = self.switch.read()
        now = self._clock()
        since = state.modified if state.on else None  # while off, show the burst that tripped it
        counts = {
            scope: count_in_window(self.ledger.read(scope), now=now, settings=settings, since=since)
            for scope in self.ledger.scopes()
        }
        return BreakerStatus(state, counts, settings)

    def reset(self, who: str) -> list[str]:
        """Switch enforcement back on and forget the ledgers; return the scopes cleared."""
        cleared = self.ledger.clear(self.ledger.scopes())
        self.switch.set(SWITCH_ON, f"reset by {who} at {self._clock().isoformat()}")
        return cleared
