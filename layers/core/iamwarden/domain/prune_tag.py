"""The pruner's exempt tag and how its value is read: one definition for the pruner and the rule that guards it.

``iamwarden.prune.domain.decide`` reads the tag by its exact key (``role.tags.get``) with ``tag_date``, and the
``prune-exemption-granted`` guardrail judges a ``TagRole``/``CreateRole`` by the same key and parser, so the two
cannot drift apart (review s13 prunex F3).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, NamedTuple

#: ``PruneSettings.exempt_tag``'s default: the role tag that exempts a role from pruning until its date.
EXEMPT_TAG = "iamwarden:prune-exempt-until"

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def tag_date(value: str) -> date | None:
    """A ``YYYY-MM-DD`` date, nothing else (``date.fromisoformat`` also takes ``20991231`` and week dates)."""
    text = value.strip()
    if not _DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


#: ``PruneSettings.max_exempt_days``'s default and bounds: an exemption lasts at most this many days from the day
#: the pruner first saw the tag on the role.
MAX_EXEMPT_DAYS = 90
MAX_EXEMPT_DAYS_BOUNDS = (1, 400)
#: ``PruneSettings.notice_days``'s default and bounds: how many days ahead the pruner announces a removal.
NOTICE_DAYS = 7
NOTICE_DAYS_BOUNDS = (1, 90)


class PruneTagSettings(NamedTuple):
    """What the enforcer knows of the pruner's settings: the tag it reads, the cap, the notice (``prune/...``).

    Read from the same SSM tree as the pruner reads them and with the same parsers, each invalid value falling back
    as the pruner falls back (it reports the problem itself). ``known`` is False only where no settings were read at
    all (``iamwarden evaluate`` without a settings file): the defaults are then an assumption, said in the finding."""

    exempt_tag: str = EXEMPT_TAG
    max_exempt_days: int = MAX_EXEMPT_DAYS
    notice_days: int = NOTICE_DAYS
    known: bool = True


def setting_text(raw: Any) -> str:
    """A text setting as the pruner reads it (``exempt_tag``): a non-empty string, stripped."""
    text = str(raw).strip() if isinstance(raw, str | int) else ""
    if not text:
        raise ValueError(f"must be a non-empty string, got {raw!r}")
    return text


def setting_integer(raw: Any, low: int, high: int) -> int:
    """A whole-number setting within its bounds, as the pruner reads it."""
    if isinstance(raw, bool):
        raise ValueError(f"must be a whole number, got {raw!r}")
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise ValueError(f"must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise ValueError(f"must be between {low} and {high}, got {value}")
    return value


def prune_tag_settings(flat: Mapping[str, Any]) -> PruneTagSettings:
    """The pruner's tag settings from flat settings paths (``prune/exempt_tag``); a value the pruner would refuse
    takes the default it falls back to."""
    given: dict[str, Any] = {}
    readers: dict[str, Callable[[Any], Any]] = {
        "exempt_tag": setting_text,
        "max_exempt_days": lambda raw: setting_integer(raw, *MAX_EXEMPT_DAYS_BOUNDS),
        "notice_days": lambda raw: setting_integer(raw, *NOTICE_DAYS_BOUNDS),
    }
    for name, read in readers.items():
        raw = flat.get(f"prune/{name}")
        if raw is None:
            continue
        try:
            given[name] = read(raw)
        except ValueError:
            continue  # the pruner reports it and uses the default: so does the rule
    return PruneTagSettings(**given)
