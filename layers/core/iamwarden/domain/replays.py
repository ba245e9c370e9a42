"""Events the enforcer judges and alerts but never acts on: replayed from an archive, or older than any delivery.

An intruder with admin in the security account can archive the central bus and, weeks later, replay old violating
events (``StartReplay``): remediations operators undid would be applied again, by IAM Warden's hand (review s8
section 10). EventBridge marks each replayed event with a ``replay-name`` field in its envelope (EventBridge user
guide, *Archiving and replaying events*). A live event reaches the enforcer within its rules'
``MaximumEventAgeInSeconds`` (86,400 s, then the dead-letter queue), so one older than that bound plus a margin is a
replay or a redelivery of the past: its facts may no longer hold. Either is judged and alerted, never remediated,
and the alert says why (``Finding.needs_context``).

Pure: no AWS call.
"""

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from iamwarden.domain.events import instant

#: The envelope field EventBridge adds to a replayed event.
REPLAY_FIELD = "replay-name"
#: The enforcer rules' ``MaximumEventAgeInSeconds`` (template.yaml) plus an hour of margin for Lambda's retries.
DEFAULT_MAX_EVENT_AGE = timedelta(seconds=86_400 + 3_600)


def held_back(
    event: Mapping[str, Any], event_time: str | None, now: datetime | None, max_age: timedelta | None
) -> str | None:
    """Why the findings of ``event`` are only alerted (a replay, or older than ``max_age`` at ``now``), or None."""
    replay = event.get(REPLAY_FIELD)
    if replay:
        return (
            f"the event was replayed from an EventBridge archive (replay {replay!r}), not delivered live: what it "
            "says may no longer hold, and a replay is no operator's request, so nothing is acted on"
        )
    if now is None or max_age is None or not event_time:
        return None
    happened = instant(event_time)
    if happened is None or now - happened <= max_age:
        return None
    return (
        f"the event is from {event_time}, older than any live delivery ({int(max_age.total_seconds())} s: the "
        "rules' maximum event age and a margin): a replay or a redelivery of the past, whose facts may no longer "
        "hold, so nothing is acted on"
    )
