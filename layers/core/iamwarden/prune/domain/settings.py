"""The pruner's settings: SSM parameters under ``<prefix>/prune/``, parsed and validated.

``parse_prune_settings`` is a pure function over a flat mapping of relative
paths (``prune/mode``) to values, as Powertools' ``get_multiple`` or a
settings file give them. Each invalid key is reported as a
``SettingsProblem`` and falls back to a safe value: an invalid mode is
``report``, an invalid kill switch is *off*, so a typo never makes the
pruner act.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Any, NamedTuple

from iamwarden.domain.arns import parse_role_arn
from iamwarden.domain.exceptions import SettingsProblem
from iamwarden.domain.exposure import ACCOUNT_ID
from iamwarden.domain.own import OwnIdentity, names_match
from iamwarden.domain.prune_tag import (
    EXEMPT_TAG,
    MAX_EXEMPT_DAYS,
    MAX_EXEMPT_DAYS_BOUNDS,
    NOTICE_DAYS,
    NOTICE_DAYS_BOUNDS,
    setting_accounts,
    setting_boolean,
    setting_integer,
    setting_mode,
    setting_text,
)
from iamwarden.domain.settings import DEFAULT_OWN_ROLES, _refuse_match_all, _string_list, flatten
from iamwarden.domain.wildcards import arn_match, matches_any, wildcard_match

ROOT = "prune"
BREAK_GLASS = "break_glass_principals"  # the enforcer's top-level setting, honoured by the pruner too
DEFAULT_ALWAYS_KEEP = ("iam:PassRole", "sts:AssumeRole")
_ACTION_PATTERN = re.compile(r"[A-Za-z0-9*?-]+:[A-Za-z0-9*?]+")


class PruneMode(StrEnum):
    """What the pruner does in an account."""

    REPORT = "report"  # plans are recorded and logged; nobody is told, nothing changes
    NOTIFY = "notify"  # owners are told what would go; nothing changes
    ENFORCE = "enforce"  # owners are told, and on the announced date the frozen plan is applied


class ExemptAction(NamedTuple):
    """An action (pattern) never pruned from roles whose name or ARN matches ``role``."""

    role: str
    action: str


#: Roles idle by design, never pruned whatever ``exempt_roles`` says (review s11 F22): used a few times a year, so
#: Access Advisor shows them unused, and pruning them breaks the next account vending, StackSet deploy (IAM Warden's
#: own member stack included) or incident. Name patterns, as ``exempt_roles`` takes them.
IDLE_BY_DESIGN_ROLES = (
    "OrganizationAccountAccessRole",
    "AWSControlTowerExecution",
    "AWSCloudFormationStackSetExecutionRole",
)
#: Service-managed StackSets' execution role: ``stacksets-exec-`` and a 32-hex id, nothing else (review s12 F5).
STACKSETS_EXEC = re.compile(r"stacksets-exec-[0-9a-f]{32}")


def idle_by_design(role_name: str, role_path: str) -> bool:
    """Exactly the names AWS gives these roles, at path ``/`` only: a look-alike elsewhere is judged normally."""
    return role_path == "/" and (role_name in IDLE_BY_DESIGN_ROLES or bool(STACKSETS_EXEC.fullmatch(role_name)))


#: The member stack's forwarder role (``OwnIdentity.member_roles`` key), also deployed in the security account.
MEMBER_FORWARDER = "member-forwarder"


class PruneSettings(NamedTuple):
    enabled: bool = True
    mode: PruneMode = PruneMode.REPORT
    account_modes: Mapping[str, PruneMode] = MappingProxyType({})
    accounts: tuple[str, ...] = ()  # empty: only the account the pruner runs in
    unused_days: int = 90
    min_role_age_days: int = 90
    recent_days: int = 14
    notice_days: int = NOTICE_DAYS
    watch_days: int = 14
    rollback_snooze_days: int = 90  # after a rollback the role gets no new plan for this long
    max_growth: int = 3  # a wildcard is expanded only if the policy stays within this many times its size
    max_roles_per_run: int = 200
    max_roles_per_account: int = 100
    always_keep: tuple[str, ...] = DEFAULT_ALWAYS_KEEP
    exempt_roles: tuple[str, ...] = ()
    exempt_actions: tuple[ExemptAction, ...] = ()
    exempt_tag: str = EXEMPT_TAG
    #: An exempt-until tag counts for at most this many days from the day the pruner first saw its value (F17).
    max_exempt_days: int = MAX_EXEMPT_DAYS
    #: The enforcer's ``break_glass_principals`` (read from the same settings): those roles are never pruned (F22).
    break_glass_principals: tuple[str, ...] = ()
    exempt_sid_prefix: str = "NOPRUNE"
    owner_tag: str = "owner"
    #: Name patterns of IAM Warden's roles: a role that has such a name but is not one of them (``own``) is judged
    #: like any other, and its plan names it a look-alike.
    own_roles: tuple[str, ...] = DEFAULT_OWN_ROLES
    #: IAM Warden's own roles by exact identity (the enforcer's ``OwnIdentity``, from the template's environment):
    #: the only roles never pruned for being IAM Warden's (review s11 F4). Empty (offline): none is.
    own: OwnIdentity = OwnIdentity()
    off_because: str = ""  # why the pruner is off whatever prune/enabled says (an unreadable break_glass_principals)

    def is_own_role(self, arn: str, account: str) -> bool:
        """Whether ``arn`` (a role of ``account``) is exactly one of IAM Warden's: the home stack's by ARN, a member
        stack's by name at path ``/`` in a member account (a region's name where the template has ``{region}``);
        with no identity known at all, any role named like them (the safe side: such a role is not pruned)."""
        role = parse_role_arn(arn)
        if not self.own.home_roles and self.own.home_account is None:
            # Nothing known of IAM Warden's identity (``iamwarden prune`` run without the stack's environment):
            # never prune a role that might be one of its own; the deployed pruner always knows them.
            return role is not None and self.looks_like_own(role.name, role.path)
        if self.own.is_own_role(arn, account):
            return True
        home = self.own.home_account
        if role is None or home is None or role.path != "/" or role.account != account:
            return False
        if account == home:
            # The member stack is deployed in the security account too, for its other regions (README: buckets in
            # other regions): its forwarder role is IAM Warden's there as well (review s11 R6).
            forwarder = self.own.member_roles.get(MEMBER_FORWARDER)
            return forwarder is not None and names_match(forwarder, role.name)
        return any(names_match(name, role.name) for name in self.own.member_roles.values())

    def looks_like_own(self, name: str, path: str) -> bool:
        """Whether a role is named like IAM Warden's (``own_roles``) at path ``/``: a look-alike unless it is own."""
        return path == "/" and matches_any(name, self.own_roles)

    def mode_for(self, account: str) -> PruneMode:
        return self.account_modes.get(account, self.mode)

    def is_exempt_role(self, role_name: str, role_arn: str) -> bool:
        return self.exempt_role_reason(role_name, role_arn) is not None

    def exempt_role_reason(self, role_name: str, role_arn: str) -> str | None:
        """Why a role is never pruned by these settings (idle by design, break-glass, ``exempt_roles``), or None."""
        if idle_by_design(role_name, _path_of(role_arn)):
            return "idle by design (account vending, StackSet or Control Tower execution role): never pruned"
        if matches_any(role_arn, self.break_glass_principals):
            return "a break-glass role (the enforcer's break_glass_principals): never pruned"
        if any(_role_matches(pattern, role_name, role_arn) for pattern in self.exempt_roles):
            return "exempted by the exempt_roles setting"
        return None

    def kept_actions(self, role_name: str, role_arn: str) -> tuple[str, ...]:
        """Action patterns never pruned from this role: the always-keep list and its exemptions."""
        exempt = tuple(item.action for item in self.exempt_actions if _role_matches(item.role, role_name, role_arn))
        return self.always_keep + exempt


def _path_of(role_arn: str) -> str:
    """The role's path from its ARN (``arn:aws:iam::1:role/a/b/name`` -> ``/a/b/``)."""
    resource = role_arn.split(":", 5)[-1]
    inner = resource.partition("/")[2]
    return "/" + inner.rpartition("/")[0] + "/" if "/" in inner else "/"


def _role_matches(pattern: str, role_name: str, role_arn: str) -> bool:
    return arn_match(pattern, role_arn) if pattern.startswith("arn:") else wildcard_match(pattern, role_name)


# name -> (kind, default from PruneSettings, bounds for ints)
_INT_BOUNDS: Mapping[str, tuple[int, int]] = {
    "unused_days": (30, 400),  # Access Advisor tracks at most 400 days
    "min_role_age_days": (0, 3650),
    "recent_days": (1, 400),
    "notice_days": NOTICE_DAYS_BOUNDS,  # shared with the enforcer (domain.prune_tag)
    "watch_days": (1, 90),
    "rollback_snooze_days": (0, 400),
    "max_exempt_days": MAX_EXEMPT_DAYS_BOUNDS,
    "max_growth": (1, 100),
    "max_roles_per_run": (1, 100_000),
    "max_roles_per_account": (1, 100_000),
}
_PATTERN_KEYS = ("always_keep", "exempt_roles", "exempt_actions", "accounts")
_TEXT_KEYS = ("exempt_tag", "exempt_sid_prefix", "owner_tag")
KNOWN_KEYS = frozenset({"enabled", "mode", "modes", *_INT_BOUNDS, *_PATTERN_KEYS, *_TEXT_KEYS})


def parse_prune_settings(
    values: Mapping[str, Any], own_roles: tuple[str, ...] = DEFAULT_OWN_ROLES, own: OwnIdentity | None = None
) -> tuple[PruneSettings, list[SettingsProblem]]:
    """Build ``PruneSettings`` from paths relative to the settings prefix; report and fall back per key. ``own``:
    IAM Warden's roles by exact identity (none when not given)."""
    everything = flatten(values)
    flat = {path: value for path, value in everything.items() if path.split("/")[0] == ROOT}
    problems: list[SettingsProblem] = []
    given: dict[str, Any] = {"own_roles": own_roles, "own": own or OwnIdentity()}
    glass = sorted(path for path in everything if path == BREAK_GLASS or path.startswith(f"{BREAK_GLASS}/"))
    unreadable = ""
    if glass:  # the enforcer's setting, read and refused the way the enforcer refuses it (review s12 F3)
        try:
            if glass != [BREAK_GLASS]:
                raise ValueError(f"must be a list of ARN patterns, got a mapping ({', '.join(glass)})")
            patterns = tuple(_string_list(everything[BREAK_GLASS]))
            _refuse_match_all(patterns, "every role would be break-glass and never pruned")
            given["break_glass_principals"] = patterns
        except ValueError as exc:  # who is break-glass is unknown: prune nobody until it is fixed
            unreadable = f"{BREAK_GLASS} {exc}; the pruner is off until it is fixed"
            problems.append(SettingsProblem(BREAK_GLASS, f"{exc}; the pruner is off until it is fixed"))
    account_modes: dict[str, PruneMode] = {}
    for path, raw in sorted(flat.items()):
        parts = path.split("/")[1:]
        name = parts[0] if parts else ""
        try:
            if name == "modes" and len(parts) == 2:
                if not ACCOUNT_ID.fullmatch(parts[1]):
                    raise ValueError(f"must be named after a 12-digit account id, got {parts[1]!r}")
                account_modes[parts[1]] = _mode(raw)
            elif len(parts) != 1 or name not in KNOWN_KEYS or name == "modes":
                raise ValueError(_unknown(path))
            elif name == "enabled":
                given["enabled"] = _boolean(raw)
            elif name == "mode":
                given["mode"] = _mode(raw)
            elif name in _INT_BOUNDS:
                given[name] = _integer(raw, *_INT_BOUNDS[name])
            elif name == "exempt_actions":
                given[name] = tuple(_exempt_action(item) for item in _string_list(raw))
            elif name in ("always_keep",):
                given[name] = tuple(_action_pattern(item) for item in _string_list(raw))
            elif name == "accounts":
                given[name] = setting_accounts(_string_list(raw))
            elif name in _PATTERN_KEYS:
                given[name] = tuple(_string_list(raw))
            else:
                given[name] = setting_text(raw)
        except ValueError as exc:
            problems.append(SettingsProblem(path, str(exc)))
            if name == "enabled":
                given["enabled"] = False  # a kill switch we cannot read is a pulled one
            if name == "modes" and len(parts) == 2 and ACCOUNT_ID.fullmatch(parts[1]):
                account_modes[parts[1]] = PruneMode.REPORT
    if unreadable:  # after the loop: prune/enabled=true (the stack always sets it) must not switch it back on
        given["enabled"] = False
        given["off_because"] = unreadable
    return PruneSettings(**given, account_modes=MappingProxyType(account_modes)), problems


def settings_from_parameters(
    parameters: Mapping[str, str], own_roles: tuple[str, ...] = DEFAULT_OWN_ROLES
) -> tuple[PruneSettings, list[SettingsProblem]]:
    """From Powertools ``get_multiple(<prefix>/prune, recursive=True)``: names relative to ``prune/``."""
    return parse_prune_settings({f"{ROOT}/{name.strip('/')}": value for name, value in parameters.items()}, own_roles)


def _unknown(path: str) -> str:
    name = path.split("/", 1)[1] if "/" in path else path
    close = difflib.get_close_matches(name, sorted(KNOWN_KEYS), n=1)
    return f"unknown pruner setting {name!r}" + (f"; did you mean {close[0]!r}?" if close else "")


def _mode(raw: Any) -> PruneMode:
    return PruneMode(setting_mode(raw))


#: The enforcer's ``prune-exemption-granted`` reads enabled, accounts and the modes with these same readers
#: (``domain.prune_tag``), so it knows where removing the exempt tag lets the pruner act.
_boolean = setting_boolean


#: The enforcer's ``prune-exemption-granted`` reads exempt_tag, max_exempt_days and notice_days with these same readers
#: (``domain.prune_tag``), so it judges a tag as the pruner will read it.
_integer = setting_integer


def _action_pattern(item: str) -> str:
    if not _ACTION_PATTERN.fullmatch(item):
        raise ValueError(f"must be IAM actions like iam:PassRole or s3:Get*, got {item!r}")
    return item


def _exempt_action(item: str) -> ExemptAction:
    role, separator, action = item.partition("=")
    if not separator or not role.strip():
        raise ValueError(f"must be ROLE_PATTERN=ACTION_PATTERN pairs like app-*=s3:DeleteObject, got {item!r}")
    return ExemptAction(role.strip(), _action_pattern(action.strip()))
