"""The pruner's exempt tag and how its value is read: one definition for the pruner and the rule that guards it.

``iamwarden.prune.domain.decide`` reads the tag by its exact key (``role.tags.get``) with ``tag_date``, and the
``prune-exemption-granted`` guardrail judges a ``TagRole``/``CreateRole`` by the same key and parser, so the two
cannot drift apart (review s13 prunex F3).
"""

from __future__ import annotations

import re
from datetime import date

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
