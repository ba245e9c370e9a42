"""What a channel answers when it is given a message: delivered, or the error after its retries.

Shared by the enforcer's alerts and the pruner's notices, so both report deliveries the same way
and the enforcer can record the failed ones for replay.
"""

from typing import NamedTuple


class Delivery(NamedTuple):
    """One channel's answer: delivered, or the error after its retries."""

    channel: str
    ok: bool
    error: str | None = None


class DeliveryReport(NamedTuple):
    deliveries: tuple[Delivery, ...] = ()

    @property
    def failed(self) -> tuple[Delivery, ...]:
        return tuple(delivery for delivery in self.deliveries if not delivery.ok)
