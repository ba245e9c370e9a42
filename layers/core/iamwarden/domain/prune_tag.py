"""The pruner's exempt tag and how its value is read: one definition for the pruner and the rule that guards it.

``iamwarden.prune.domain.decide`` reads the tag by its exact key (``role.tags.get``) with ``tag_date``, and the
``prune-exemption-granted`` guardrail judges a ``TagRole``/``CreateRole`` by the same key and parser, so the two
cannot drift apart (review s13 prunex F3).
"""

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Any, NamedTuple

from iamwarden.domain.exposure import ACCOUNT_ID

#: ``PruneSettings.exempt_tag``'s default: the role tag that exempts a role from pruning until its date.
EXEMPT_TAG = "iamwarden:prune-exempt-until"

_DATE = r"\d{4}-\d{2}-\d{2}"  # compiled (``re``'s cache) with the first tag read, not at every cold start


def tag_date(value: str) -> date | None:
    """A ``YYYY-MM-DD`` date, nothing else (``date.fromisoformat`` also takes ``20991231`` and week dates)."""
    text = value.strip()
    if not re.fullmatch(_DATE, text):
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
#: The pruner's modes (``PruneMode``'s values, held equal by a test), the first its default.
PRUNE_MODES = ("report", "notify", "enforce")


class PruneTagSettings(NamedTuple):
    """What the enforcer knows of the pruner's settings: the tag it reads, the cap, the notice (``prune/...``).

    Read from the same SSM tree as the pruner reads them and with the same parsers, each invalid value falling back
    as the pruner falls back (it reports the problem itself). ``known`` is False where no ``prune/`` setting was read
    (``iamwarden evaluate`` without a settings file, or with one that has no pruner section; the stack always sets
    ``prune/enabled``): the defaults are then an assumption, said in the finding (review s14 F5)."""

    exempt_tag: str = EXEMPT_TAG
    max_exempt_days: int = MAX_EXEMPT_DAYS
    notice_days: int = NOTICE_DAYS
    known: bool = True
    #: Whether the pruner runs (``prune/enabled``; unreadable: off, as the pruner reads it), the accounts it manages
    #: (``prune/accounts``; none: only the account it runs in) and its mode there (``prune/mode``,
    #: ``prune/modes/<account>``): whether removing the tag lets the pruner act at all (review s14 F2).
    enabled: bool = True
    accounts: tuple[str, ...] = ()
    mode: str = PRUNE_MODES[0]
    account_modes: tuple[tuple[str, str], ...] = ()

    def manages(self, account: str, home_account: str | None) -> bool | None:
        """Whether the pruner judges ``account``'s roles; None when that is unknown (no accounts set and the account
        the pruner runs in unknown)."""
        if self.accounts:
            return account in self.accounts
        return None if home_account is None else account == home_account

    def mode_for(self, account: str) -> str:
        return dict(self.account_modes).get(account, self.mode)


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


def setting_boolean(raw: Any) -> bool:
    """A true/false setting as the pruner reads it (``enabled``)."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
        return raw.strip().lower() == "true"
    raise ValueError(f"must be true or false, got {raw!r}")


def setting_mode(raw: Any) -> str:
    """A pruner mode as the pruner reads it (``mode``, ``modes/<account>``)."""
    if isinstance(raw, str) and raw.strip().lower() in PRUNE_MODES:
        return raw.strip().lower()
    raise ValueError(f"must be one of {', '.join(PRUNE_MODES)}, got {raw!r}")


def setting_accounts(items: Iterable[str]) -> tuple[str, ...]:
    """``accounts`` as the pruner reads it, from its list of strings: 12-digit account ids only."""
    accounts = tuple(items)
    bad = [item for item in accounts if not ACCOUNT_ID.fullmatch(item)]
    if bad:
        raise ValueError(f"must be 12-digit account ids, got {', '.join(map(repr, bad))}")
    return accounts


def prune_tag_settings(flat: Mapping[str, Any], string_list: Callable[[Any], list[str]]) -> PruneTagSettings:
    """The pruner's tag settings from flat settings paths (``prune/exempt_tag``); a value the pruner would refuse
    takes the default it falls back to (an unreadable ``enabled`` is off, an unreadable account mode is report).
    ``string_list``: the settings' list reader, the pruner's too."""
    given: dict[str, Any] = {}
    account_modes: dict[str, str] = {}
    for path, raw in flat.items():
        parts = path.split("/")
        if len(parts) == 3 and parts[:2] == ["prune", "modes"] and ACCOUNT_ID.fullmatch(parts[2]):
            try:
                account_modes[parts[2]] = setting_mode(raw)
            except ValueError:
                account_modes[parts[2]] = PRUNE_MODES[0]
    given["account_modes"] = tuple(sorted(account_modes.items()))
    if "prune/enabled" in flat:
        try:
            given["enabled"] = setting_boolean(flat["prune/enabled"])
        except ValueError:
            given["enabled"] = False  # a kill switch the pruner cannot read is a pulled one
    readers: dict[str, Callable[[Any], Any]] = {
        "exempt_tag": setting_text,
        "max_exempt_days": lambda raw: setting_integer(raw, *MAX_EXEMPT_DAYS_BOUNDS),
        "notice_days": lambda raw: setting_integer(raw, *NOTICE_DAYS_BOUNDS),
        "mode": setting_mode,
        "accounts": lambda raw: setting_accounts(string_list(raw)),
    }
    for name, read in readers.items():
        raw = flat.get(f"prune/{name}")
        if raw is None:
            continue
        try:
            given[name] = read(raw)
        except ValueError:
            continue  # the pruner reports it and uses the default: so does the rule
    known = any(path.startswith("prune/") for path in flat)  # a file without a pruner section: defaults assumed
    return PruneTagSettings(**given, known=known)
