"""Settings writes to IAM Warden's own settings, judged by the settings from before them.

A write to the settings that tune IAM Warden must never approve itself: switching ``iamwarden-tampered`` off,
making the writer an operator or an allowed actor, or leaving its account unmanaged would otherwise exempt the
very write that did it. The engine judges such a write with ``guarding_a_settings_write`` (the settings it is
handed are those from before the write), and ``iamwarden-tampered`` puts back what ``guards_the_guard`` names.
Pure: the enforcer and the rule share it without importing the guardrail module on every event.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from iamwarden.domain.catalog import Mode
from iamwarden.domain.events import CloudTrailChange
from iamwarden.domain.own import OwnIdentity
from iamwarden.domain.settings import Settings

#: The rule that judges changes to IAM Warden itself (``guardrails.tampering``).
TAMPERED_RULE_ID = "iamwarden-tampered"
SSM = "ssm.amazonaws.com"
#: The SSM calls that write or delete a parameter.
SETTING_EVENTS = frozenset({"PutParameter", "DeleteParameter", "DeleteParameters"})


def settings_written(change: CloudTrailChange, own: OwnIdentity) -> dict[str, int | None]:
    """IAM Warden's own settings (parameter names under its prefix) that ``change`` wrote or deleted.

    Each name maps to the parameter version the write made (``PutParameter``'s response), or None for a deletion.
    Empty for anything else, and for the settings of an account other than the security account.
    """
    if change.event_source != SSM or change.event_name not in SETTING_EVENTS or change.account != own.home_account:
        return {}
    parameters = change.request_parameters
    names: Any = [parameters.get("name")]
    if change.event_name == "DeleteParameters":  # the names it deleted, when the response says (not the invalid ones)
        deleted = change.succeeded_entries("deletedParameters")
        names = list(deleted) if deleted is not None else parameters.get("names")
    prefix = (own.settings_prefix or "").rstrip("/")
    version = (change.response_elements or {}).get("version") if change.event_name == "PutParameter" else None
    return {
        name: version if isinstance(version, int) else None
        for name in (names if isinstance(names, list) else [])
        if isinstance(name, str) and prefix and (name == prefix or name.startswith(prefix + "/"))
    }


def guards_the_guard(own: OwnIdentity, names: list[str]) -> bool:
    """Whether a write touches what switches the guard off or exempts from it: put back whatever
    ``settings_guard`` says, or an intruder's ``operators`` entry would approve the next write."""
    prefix = (own.settings_prefix or "").rstrip("/") + "/"
    for name in names:
        relative = name[len(prefix) :] if name.startswith(prefix) else ""
        parts = relative.split("/")
        if (
            relative in ("break_glass_principals", "managed_accounts")
            or relative.startswith(f"rules/{TAMPERED_RULE_ID}/")
            or (parts[0] == "accounts" and (parts[2:] == ["mode"] or parts[2:4] == ["rules", TAMPERED_RULE_ID]))
        ):
            return True
    return False


def guarding_a_settings_write(settings: Settings, change: CloudTrailChange) -> Settings | None:
    """The settings a write to IAM Warden's own settings is judged by, or None when ``change`` is no such write.

    A settings write must never approve itself: the settings the caller hands in are those from *before* the
    write (the enforcer reads the changed parameters' previous versions, ``SsmSettingsSource.before``; offline the
    file given is "before"), and even so nothing but ``operators`` exempts it. ``iamwarden-tampered`` is never off
    for it (``off`` judges it in ``alert``), and its ``allow_actors``/``allow_resources``, ``managed_accounts``,
    break-glass principals and the per-account overrides are not honoured: one write could otherwise switch the
    judgement of that very write off (the heartbeat alerts a rule left ``off``).
    """
    if not settings_written(change, settings.own):
        return None
    rule = settings.rule(TAMPERED_RULE_ID)
    strict = rule._replace(mode=Mode.ALERT if rule.mode is Mode.OFF else rule.mode, allow_actors=(), allow_resources=())
    return settings._replace(
        rules=MappingProxyType({**settings.rules, TAMPERED_RULE_ID: strict}),
        managed_accounts=frozenset(),
        break_glass_principals=(),
        accounts=MappingProxyType({}),
    )
