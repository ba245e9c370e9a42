"""Settings writes to IAM Warden's own settings, judged by the settings from before them.

A write to the settings that tune IAM Warden must never approve itself: switching ``iamwarden-tampered`` off,
making the writer an operator or an allowed actor, or leaving its account unmanaged would otherwise exempt the
very write that did it. The engine judges such a write with ``guarding_a_settings_write`` (the settings it is
handed are those from before the write), and ``iamwarden-tampered`` puts back what ``guards_the_guard`` names.
Pure: the enforcer and the rule share it without importing the guardrail module on every event.
"""

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from iamwarden.domain import declared
from iamwarden.domain.catalog import Mode
from iamwarden.domain.events import CloudTrailChange
from iamwarden.domain.own import OwnIdentity
from iamwarden.domain.settings import Settings
from iamwarden.domain.wildcards import arn_match

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


#: The step that puts a setting back (``guardrails.tampering.RestoreSetting``), named here so the service can
#: tell it without importing the guardrail module before an event needs it.
RESTORE_SETTING = "restore_setting"


def switches_remediation_off(own: OwnIdentity, names: Iterable[str]) -> bool:
    """Whether a write touches what holds every remediation: the kill switch (``enforcement``) or the circuit
    breaker's limits (``breaker/*``: a limit of 0 trips it at the next remediation)."""
    prefix = (own.settings_prefix or "").rstrip("/") + "/"
    relatives = [name[len(prefix) :] for name in names if name.startswith(prefix)]
    return any(relative == "enforcement" or relative.startswith("breaker/") for relative in relatives)


def restores_the_guard(own: OwnIdentity, name: str) -> bool:
    """Whether putting setting ``name`` back is exempt from the kill switch and the circuit breaker: the switch
    itself, the breaker's limits and ``iamwarden-tampered``'s own settings. Held by the switch, the restore of the
    very write that set it off could never run (audit s7 gap 5)."""
    prefix = (own.settings_prefix or "").rstrip("/") + "/"
    return bool(own.settings_prefix) and (
        switches_remediation_off(own, [name]) or name.startswith(f"{prefix}rules/{TAMPERED_RULE_ID}/")
    )


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


class KnownGood(NamedTuple):
    """What a setting was, known good, before a write: a version's history entry, or nothing (``absent``: the
    parameter did not exist, so its default applies); neither when nothing before is known good. ``why`` says which,
    in words."""

    entry: Mapping[str, Any] | None
    absent: bool
    why: str

    @property
    def known(self) -> bool:
        return self.entry is not None or self.absent


def known_good_version(history: Iterable[Mapping[str, Any]], name: str, before: int, settings: Settings) -> KnownGood:
    """The newest state of setting ``name`` before its version ``before`` that is known good (audit s7 gap 3).

    A version is known good when an operator wrote it (``settings``' ``operators``, matched against
    ``GetParameterHistory``'s ``LastModifiedUser``), IAM Warden's enforcer wrote it (its own restore), or it holds
    the value the template declares. The version just before a write may be the intruder's own earlier write (two
    quick writes), so it is never taken on trust. When no version is, but the history starts at version 1, the
    parameter did not exist before it (``absent``: its default, which is never more lenient than a written value);
    otherwise nothing is known and ``why`` says what was found.
    """
    operators = settings.rule(TAMPERED_RULE_ID).patterns("operators")
    prefix = (settings.own.settings_prefix or "").rstrip("/") + "/"
    default = declared.SETTING_DEFAULTS.get(name.removeprefix(prefix))
    earlier = sorted(
        (entry for entry in history if isinstance(entry.get("Version"), int) and entry["Version"] < before),
        key=lambda entry: entry["Version"],
        reverse=True,
    )
    for entry in earlier:
        writer = str(entry.get("LastModifiedUser") or "")
        operator = next((p for p in operators if any(arn_match(p, arn) for arn in _writer_arns(writer))), None)
        if operator is not None:
            return KnownGood(entry, False, f"written by the operator {writer} ({operator!r})")
        if _written_by_iam_warden(settings.own, writer):
            return KnownGood(entry, False, f"written by IAM Warden itself ({writer})")
        if default is not None and entry.get("Value") == default:
            return KnownGood(entry, False, "the value its template declares")
    if not earlier or earlier[-1]["Version"] == 1:
        return KnownGood(
            None, True, f"{name} did not exist before version {earlier[-1]['Version'] if earlier else before}"
        )
    written = ", ".join(f"version {e['Version']} by {e.get('LastModifiedUser') or 'someone unknown'}" for e in earlier)
    return KnownGood(
        None,
        False,
        f"a version of {name} before version {before} known good (written by an operator, by IAM Warden itself, or "
        f"holding the template's value): none is ({written}), and its older versions are no longer in its history",
    )


def _writer_arns(writer: str) -> tuple[str, ...]:
    """A writer's ARN, and for a role session also its role's (``assumed-role/<role>/<session>``: path unknown)."""
    parts = writer.split(":", 5)
    if len(parts) == 6 and parts[2] == "sts" and parts[5].startswith("assumed-role/"):
        role = parts[5].split("/")[1]
        return writer, f"arn:{parts[1]}:iam::{parts[4]}:role/{role}"
    return (writer,)


def _written_by_iam_warden(own: OwnIdentity, writer: str) -> bool:
    """Whether ``writer`` is a session of one of IAM Warden's own roles of the security account, named after one
    of its own functions that run as that role (as Lambda names them): its enforcer's restore."""
    parts = writer.split(":", 5)
    if own.home_account is None or len(parts) != 6 or parts[2] != "sts" or parts[4] != own.home_account:
        return False
    path = parts[5].split("/")
    if len(path) != 3 or path[0] != "assumed-role":
        return False
    kind = own.kind_of_role_named(path[1], own.home_account)
    return kind is not None and path[2] in own.functions_of(kind)
