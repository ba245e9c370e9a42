"""One validated settings model, loadable from a file (``iamwarden.app.settings_file``) or from SSM.

Settings are addressed by paths that are the same everywhere: the nested key
``rules: {iam-user-created: {mode: ...}}`` in a settings file is the path
``rules/iam-user-created/mode``, which is the SSM parameter
``/<prefix>/rules/iam-user-created/mode``. Every missing key takes its
documented default. ``parse_settings`` reports each invalid key and falls back
for it (an invalid rule setting puts that rule in ``alert``), so one bad
parameter never disables other rules; ``load_settings`` raises instead.

In an AWS Organization one account can differ from the rest:
``accounts/<id>/rules/<rule-id>/<setting>`` overrides a rule's setting for
events of that account only, and ``accounts/<id>/mode`` caps every rule there
(``alert`` puts the whole account in alert-only with one parameter, ``off``
silences it). ``Settings.for_account`` gives the settings an event is judged by.
"""

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from types import MappingProxyType
from typing import Any, NamedTuple

from iamwarden.domain.breaker import DEFAULT_MAX_REMEDIATIONS, DEFAULT_WINDOW_MINUTES, BreakerSettings
from iamwarden.domain.catalog import RULES, Mode, OptionSpec, default_mode, options_of
from iamwarden.domain.exceptions import SettingsError, SettingsProblem
from iamwarden.domain.exposure import ACCOUNT_ID, ORGANIZATION_ID, TrustBoundary
from iamwarden.domain.own import OwnIdentity
from iamwarden.domain.prune_tag import PruneTagSettings, prune_tag_settings
from iamwarden.domain.wildcards import matches_any

#: Role name patterns the Access Advisor pruner never prunes (its own safety margin; the enforcer knows its own
#: roles by exact ARN, ``iamwarden.domain.own``, never by these names).
DEFAULT_OWN_ROLES = ("iamwarden-*",)
#: Seconds the enforcer caches its live settings: an operator's change takes effect within this time.
SETTINGS_MAX_AGE_SECONDS = 60
#: Subtrees of the settings prefix that other parts of IAM Warden read and validate themselves.
DELEGATED_SETTINGS = ("alerts", "prune", "slack")
# The identifier shapes are compiled on first use (``re.fullmatch`` keeps them in re's cache): only a setting of
# that kind is checked, and compiling them all cost every cold start of the enforcer (README, Benchmarks).
_NETWORK_ID = r"vpce?-[0-9a-f]{8,17}"
_CANONICAL_ID = r"[0-9a-fA-F]{64}"
#: A GitHub user or organisation name: letters, digits and single hyphens, at most 39 characters.
GITHUB_OWNER = r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}"
#: A Cognito identity pool id, as the Cognito API's ``IdentityPoolId`` pattern spells it (``us-east-1:…``).
IDENTITY_POOL_ID = r"[\w-]+:[0-9a-f-]+"

#: Top-level settings: path -> (kind, documentation). Defaults live on ``Settings``.
GLOBAL_KEYS: Mapping[str, tuple[str, str]] = {
    "trusted_accounts": (
        "accounts",
        "12-digit account ids whose principals are trusted (beyond the event's own account)",
    ),
    "organization_id": ("organization", "the AWS Organization id (o-...) whose principals are trusted"),
    "trusted_networks": (
        "networks",
        "VPC and VPC endpoint ids (vpc-…, vpce-…) whose aws:SourceVpc/SourceVpce grants are private",
    ),
    "cloudfront_oai_canonical_ids": (
        "canonical_ids",
        "S3 canonical user ids of the organisation's CloudFront origin access identities; bucket policies granting "
        "them in CanonicalUser form are private without asking CloudFront (the enforcer looks any other id up)",
    ),
    "break_glass_principals": ("patterns", "ARN patterns of break-glass principals: alerted on, never remediated"),
    "managed_accounts": ("accounts", "accounts IAM Warden acts in; empty means every account whose events arrive"),
    "github_owners": (
        "github_owners",
        "the organisation's own GitHub owners (organisations or users); a role trusting GitHub Actions of any other "
        "owner is a finding",
    ),
    "cognito_identity_pools": (
        "identity_pools",
        "the organisation's own Cognito identity pool ids (us-east-1:…); a role trusting any other pool, or any "
        "pool, is a finding",
    ),
    "root_credentials_remediation": (
        "on_off",
        "on lets root-access-key-created delete a new root access key through AWS Organizations centralized root "
        "access (sts:AssumeRoot, granted by the template's RootCredentialsRemediation parameter); off alerts only",
    ),
    "enforcement": (
        "switch",
        "the kill switch: on lets rules in remediate mode remediate; off makes the whole deployment alert-only",
    ),
}

#: The circuit breaker (``breaker/<key>``): more remediations than this within the window trips it.
BREAKER_KEYS: Mapping[str, tuple[int, int, int, str]] = {
    "max_remediations": (
        DEFAULT_MAX_REMEDIATIONS,
        1,
        10_000,
        "remediations allowed per account, and in total, within the window before the breaker trips",
    ),
    "window_minutes": (DEFAULT_WINDOW_MINUTES, 1, 24 * 60, "the window the breaker counts remediations in"),
}

#: The heartbeat's member checks (``heartbeat/<key>``): (default, lowest, highest, documentation).
HEARTBEAT_KEYS: Mapping[str, tuple[int, int, int, str]] = {
    "member_checks_per_run": (
        10,
        1,
        200,
        "member (account, region) pairs the heartbeat checks a run, in turn (app.member_coverage)",
    ),
    "public_access_block_buckets_per_run": (
        100,
        0,
        1000,
        "buckets whose Block Public Access the heartbeat reads a run per account (the security account and each member"
        " account it reads), in turn (app.public_access_seed; 0: none)",
    ),
}


# --- exceptions (issue 17): time-boxed exceptions to a rule, requested and approved (domain.rule_exceptions)


class ExceptionSettings(NamedTuple):
    """How long an exception lasts unless the request says (``default_days``), at most (``max_days``), and how
    many days before it expires its owner is reminded (``remind_days_before``)."""

    default_days: int = 7
    max_days: int = 90
    remind_days_before: int = 1


#: ``exceptions/<key>``: (default, lowest, highest, documentation).
EXCEPTION_KEYS: Mapping[str, tuple[int, int, int, str]] = {
    "default_days": (7, 1, 365, "days an exception lasts when its request names none"),
    "max_days": (90, 1, 365, "the most days an exception may last (the issue's max_exception_days)"),
    "remind_days_before": (1, 0, 30, "days before an exception expires that its owner is reminded (0: never)"),
}


def _exception_settings(values: Mapping[str, int], problems: list[SettingsProblem]) -> ExceptionSettings:
    """The exception settings; a default above the maximum is refused (the maximum is used instead)."""
    exceptions = ExceptionSettings(**values)
    if exceptions.default_days > exceptions.max_days:
        problems.append(
            SettingsProblem(
                "exceptions/default_days",
                f"{exceptions.default_days} is more than exceptions/max_days ({exceptions.max_days}); "
                f"using {exceptions.max_days}",
            )
        )
        exceptions = exceptions._replace(default_days=exceptions.max_days)
    return exceptions


# --- end of exceptions


class RuleSettings(NamedTuple):
    """A rule's mode, its common allowlists and its own options, all validated."""

    rule_id: str
    mode: Mode = Mode.ALERT
    allow_actors: tuple[str, ...] = ()
    allow_resources: tuple[str, ...] = ()
    options: Mapping[str, str | tuple[str, ...]] = MappingProxyType({})

    def patterns(self, name: str) -> tuple[str, ...]:
        value = self.options.get(name, options_of(self.rule_id)[name].default)
        return value if isinstance(value, tuple) else (value,)

    def choice(self, name: str) -> str:
        value = self.options.get(name, options_of(self.rule_id)[name].default)
        return value if isinstance(value, str) else value[0]


class _EveryRuleAtItsDefaults(Mapping[str, RuleSettings]):
    """Every registered rule with its default settings (read when used: the guardrail registry fills ``RULES``)."""

    def __getitem__(self, rule_id: str) -> RuleSettings:
        if rule_id not in RULES:
            raise KeyError(rule_id)
        return RuleSettings(rule_id, default_mode(rule_id))

    def __iter__(self) -> Iterator[str]:
        return iter(RULES)

    def __len__(self) -> int:
        return len(RULES)

    def __repr__(self) -> str:
        return f"{{every rule at its defaults: {', '.join(RULES)}}}"


DEFAULT_RULES: Mapping[str, RuleSettings] = _EveryRuleAtItsDefaults()


#: How strong each mode is: an account's mode caps its rules' modes at its own.
_MODE_STRENGTH: Mapping[Mode, int] = {Mode.OFF: 0, Mode.ALERT: 1, Mode.REMEDIATE: 2}
ACCOUNT_MODE_DOC = "the strongest mode any rule may have in this account: off, alert (alert-only) or remediate"


class AccountSettings(NamedTuple):
    """One account's overrides: a cap on every rule's mode, and rule settings that replace the global ones."""

    mode: Mode = Mode.REMEDIATE
    rules: Mapping[str, RuleSettings] = MappingProxyType({})


class Settings(NamedTuple):
    """Everything an operator can tune, with safe defaults (every rule in ``alert``, ``iamwarden-tampered`` in
    ``remediate``: nothing legitimate changes IAM Warden outside its own stack)."""

    trusted_accounts: frozenset[str] = frozenset()
    organization_id: str | None = None
    trusted_networks: frozenset[str] = frozenset()
    #: S3 canonical user ids of CloudFront origin access identities (lower case): private offline too.
    cloudfront_oai_canonical_ids: frozenset[str] = frozenset()
    break_glass_principals: tuple[str, ...] = ()
    managed_accounts: frozenset[str] = frozenset()
    #: GitHub owners whose Actions workflows may assume roles (empty: the owner is not checked).
    github_owners: frozenset[str] = frozenset()
    #: Cognito identity pools whose identities may assume roles (empty: the pool is not checked).
    cognito_identity_pools: frozenset[str] = frozenset()
    #: Whether a new root access key may be deleted through ``sts:AssumeRoot`` (off: alerted, with what to do).
    root_credentials_remediation: bool = False
    rules: Mapping[str, RuleSettings] = DEFAULT_RULES
    #: Per-account overrides (``accounts/<id>/...``), already merged with the global rule settings.
    accounts: Mapping[str, AccountSettings] = MappingProxyType({})
    #: The kill switch as last read with the settings (the breaker reads it fresh before each remediation).
    enforcement: bool = True
    breaker: BreakerSettings = BreakerSettings()
    #: Time-boxed exceptions: their default and maximum length, and when owners are reminded.
    exceptions: ExceptionSettings = ExceptionSettings()
    #: IAM Warden's own roles by exact ARN, from the template through the environment, never from SSM.
    own: OwnIdentity = OwnIdentity()
    #: How many member (account, region) pairs each heartbeat run checks, taken in turn (``heartbeat/...``).
    member_checks_per_run: int = HEARTBEAT_KEYS["member_checks_per_run"][0]
    #: How many buckets' Block Public Access each heartbeat run reads, taken in turn (``heartbeat/...``).
    public_access_block_buckets_per_run: int = HEARTBEAT_KEYS["public_access_block_buckets_per_run"][0]
    #: The pruner's exempt tag, its cap and notice (``prune/...``, read as the pruner reads them) for the rule that
    #: watches the tag; not known (defaults assumed) when no settings were read.
    prune_tag: PruneTagSettings = PruneTagSettings(known=False)

    def rule(self, rule_id: str) -> RuleSettings:
        return self.rules.get(rule_id) or RuleSettings(rule_id, default_mode(rule_id))

    def for_account(self, account: str) -> "Settings":
        """The settings events of ``account`` are judged by: its rule overrides, every mode capped by its mode."""
        override = self.accounts.get(account)
        if override is None:
            return self
        cap = _MODE_STRENGTH[override.mode]
        rules = {}
        for rule_id in {*self.rules, *override.rules}:
            rule = override.rules.get(rule_id) or self.rule(rule_id)
            rules[rule_id] = rule._replace(mode=override.mode) if _MODE_STRENGTH[rule.mode] > cap else rule
        return self._replace(rules=MappingProxyType(rules), accounts=MappingProxyType({}))

    def manages(self, account: str) -> bool:
        return not self.managed_accounts or account in self.managed_accounts

    def boundary(self, own_account: str) -> TrustBoundary:
        return TrustBoundary(
            own_account,
            self.trusted_accounts | self.managed_accounts,
            self.organization_id,
            self.trusted_networks,
            self.cloudfront_oai_canonical_ids,
        )

    def is_break_glass(self, *arns: str | None) -> str | None:
        """The first of ``arns`` that a break-glass pattern matches."""
        patterns = self.break_glass_principals
        if not patterns:
            return None
        if type(patterns) is not tuple:  # built by hand with a list: the cache needs a hashable key
            patterns = tuple(patterns)
        for arn in arns:
            if arn and _any_pattern_matches(patterns, arn):
                return arn
        return None


@lru_cache(maxsize=1024)
def _any_pattern_matches(patterns: tuple[str, ...], arn: str) -> bool:
    """``matches_any``, kept by the patterns and the whole ARN (its account included): every event asks it for
    its actor, and the same few actors (pipelines, operators) make most changes. Bounded: ARNs come from events."""
    return matches_any(arn, patterns)


class RefusedValue(NamedTuple):
    """A rule option value this deployment cannot carry out: its roles were not granted what it needs."""

    rule_id: str
    option: str
    value: str
    fallback: str
    why: str


def _refuse(
    rules: Mapping[str, RuleSettings], refused: Sequence[RefusedValue], where: str, problems: list[SettingsProblem]
) -> Mapping[str, RuleSettings]:
    """``rules`` with every refused value replaced by its fallback, each replacement reported."""
    changed = dict(rules)
    for gate in refused:
        rule = changed.get(gate.rule_id)
        if rule is None or rule.options.get(gate.option) != gate.value:
            continue
        options = MappingProxyType({**rule.options, gate.option: gate.fallback})
        changed[gate.rule_id] = rule._replace(options=options)
        problems.append(
            SettingsProblem(
                f"{where}rules/{gate.rule_id}/{gate.option}",
                f"{gate.value} is refused: {gate.why}; using {gate.fallback}",
            )
        )
    return MappingProxyType(changed)


def parse_settings(
    values: Mapping[str, Any], *, refused: Sequence[RefusedValue] = ()
) -> tuple[Settings, list[SettingsProblem]]:
    """Build ``Settings`` from nested or path-keyed values, reporting each invalid key.

    Invalid keys fall back: a global key to its default, a rule key to the
    default and the rule's mode to ``alert`` (but ``NEVER_DEGRADED_RULES``'). A value in ``refused`` (one the
    deployment was not granted the permissions for) falls back to its safe value.
    """
    flat = flatten(values)
    problems: list[SettingsProblem] = []
    global_values: dict[str, Any] = {}
    rule_values = _RuleValues()
    account_values: dict[str, _RuleValues] = {}
    account_modes: dict[str, Mode] = {}
    breaker_values: dict[str, int] = {}
    exception_values: dict[str, int] = {}
    heartbeat_values: dict[str, int] = {}

    for path, raw in flat.items():
        parts = path.split("/")
        if parts[0] in DELEGATED_SETTINGS:
            continue
        if len(parts) == 1 and path in GLOBAL_KEYS:
            try:
                global_values[path] = _convert_global(GLOBAL_KEYS[path][0], raw)
            except _SwitchError as exc:
                global_values[path] = exc.fallback
                problems.append(SettingsProblem(path, str(exc)))
            except ValueError as exc:
                problems.append(SettingsProblem(path, str(exc)))
        elif parts[0] == "rules":
            problem = rule_values.add(parts[1:], raw)
            if problem:
                problems.append(SettingsProblem(path, problem))
        elif parts[0] == "accounts":
            problem = _account_setting(parts[1:], raw, account_values, account_modes)
            if problem:
                problems.append(SettingsProblem(path, problem))
        elif parts[0] == "breaker" and len(parts) == 2 and parts[1] in BREAKER_KEYS:
            try:
                breaker_values[parts[1]] = _bounded_int(raw, *BREAKER_KEYS[parts[1]][1:3])
            except ValueError as exc:
                problems.append(SettingsProblem(path, str(exc)))
        elif parts[0] == "breaker":
            problems.append(SettingsProblem(path, _unknown("/".join(parts[1:]), BREAKER_KEYS, "breaker setting")))
        elif parts[0] == "exceptions" and len(parts) == 2 and parts[1] in EXCEPTION_KEYS:
            try:
                exception_values[parts[1]] = _bounded_int(raw, *EXCEPTION_KEYS[parts[1]][1:3])
            except ValueError as exc:
                problems.append(SettingsProblem(path, str(exc)))
        elif parts[0] == "exceptions":
            problems.append(SettingsProblem(path, _unknown("/".join(parts[1:]), EXCEPTION_KEYS, "exceptions setting")))
        elif parts[0] == "heartbeat" and len(parts) == 2 and parts[1] in HEARTBEAT_KEYS:
            try:
                heartbeat_values[parts[1]] = _bounded_int(raw, *HEARTBEAT_KEYS[parts[1]][1:3])
            except ValueError as exc:
                problems.append(SettingsProblem(path, str(exc)))
        elif parts[0] == "heartbeat":
            problems.append(SettingsProblem(path, _unknown("/".join(parts[1:]), HEARTBEAT_KEYS, "heartbeat setting")))
        else:
            problems.append(SettingsProblem(path, _unknown(parts[0], GLOBAL_KEYS, "setting")))

    rules = _refuse(rule_values.build(), refused, "", problems)
    accounts = {
        account: AccountSettings(
            account_modes.get(account, Mode.REMEDIATE),
            _refuse(
                MappingProxyType(account_values[account].build(rules) if account in account_values else {}),
                refused,
                f"accounts/{account}/",
                problems,
            ),
        )
        for account in sorted({*account_values, *account_modes})
    }
    settings = Settings(
        trusted_accounts=frozenset(global_values.get("trusted_accounts", ())),
        organization_id=global_values.get("organization_id") or None,
        trusted_networks=frozenset(global_values.get("trusted_networks", ())),
        cloudfront_oai_canonical_ids=frozenset(
            identifier.lower() for identifier in global_values.get("cloudfront_oai_canonical_ids", ())
        ),
        break_glass_principals=global_values.get("break_glass_principals", ()),
        managed_accounts=frozenset(global_values.get("managed_accounts", ())),
        github_owners=frozenset(global_values.get("github_owners", ())),
        cognito_identity_pools=frozenset(global_values.get("cognito_identity_pools", ())),
        root_credentials_remediation=global_values.get("root_credentials_remediation", "off") == "on",
        rules=rules,
        accounts=MappingProxyType(accounts),
        enforcement=global_values.get("enforcement", "on") == "on",
        breaker=BreakerSettings(**breaker_values),
        exceptions=_exception_settings(exception_values, problems),
        member_checks_per_run=heartbeat_values.get("member_checks_per_run", HEARTBEAT_KEYS["member_checks_per_run"][0]),
        public_access_block_buckets_per_run=heartbeat_values.get(
            "public_access_block_buckets_per_run", HEARTBEAT_KEYS["public_access_block_buckets_per_run"][0]
        ),
        prune_tag=prune_tag_settings(flat, _string_list),  # the pruner reports its own settings' problems
    )
    return settings, problems


#: Rules a broken setting never drops to ``alert``: IAM Warden's own guard. An intruder who writes an invalid value
#: under ``rules/iamwarden-tampered/`` would otherwise turn every later restore of IAM Warden into an alert (audit
#: s7 gap 3); the broken option falls back to its default, and the rule keeps its mode (its default when the mode
#: itself is the broken value).
NEVER_DEGRADED_RULES = frozenset({"iamwarden-tampered"})


class _RuleValues:
    """Rule settings as given (``rules/<rule-id>/<setting>``), validated one path at a time."""

    def __init__(self) -> None:
        self.values: dict[str, dict[str, Any]] = {}
        self.broken: set[str] = set()

    def add(self, parts: list[str], raw: Any) -> str | None:
        """Take the value at ``rules/<parts>``; return what is wrong with it, if anything."""
        if not parts:
            return "must map rule ids to their settings, e.g. rules: {iam-user-created: {mode: alert}}"
        rule_id = parts[0]
        if rule_id not in RULES:
            return _unknown(rule_id, RULES, "rule")
        if len(parts) != 2:
            self.broken.add(rule_id)
            return f"settings of rule {rule_id} are one level deep, e.g. rules/{rule_id}/mode"
        name = parts[1]
        specs = options_of(rule_id)
        if name not in specs:
            self.broken.add(rule_id)
            return _unknown(name, specs, f"setting of rule {rule_id}")
        try:
            self.values.setdefault(rule_id, {})[name] = _convert_option(specs[name], raw)
        except ValueError as exc:
            self.broken.add(rule_id)
            return str(exc)
        return None

    def build(self, base: Mapping[str, RuleSettings] | None = None) -> dict[str, RuleSettings]:
        """Every rule's settings (over ``base``, the global ones, for an account); a broken rule is in alert."""
        rules: dict[str, RuleSettings] = {}
        for rule_id in RULES if base is None else sorted({*self.values, *self.broken}):
            given = dict(self.values.get(rule_id, {}))
            inherited = base[rule_id] if base is not None else RuleSettings(rule_id, default_mode(rule_id))
            mode = Mode(given.pop("mode", inherited.mode.value))
            if rule_id in self.broken and rule_id not in NEVER_DEGRADED_RULES:
                mode = Mode.ALERT
            rules[rule_id] = RuleSettings(
                rule_id=rule_id,
                mode=mode,
                allow_actors=given.pop("allow_actors", inherited.allow_actors),
                allow_resources=given.pop("allow_resources", inherited.allow_resources),
                options={**inherited.options, **given},
            )
        return rules


def _account_setting(parts: list[str], raw: Any, values: dict[str, _RuleValues], modes: dict[str, Mode]) -> str | None:
    """Take the value at ``accounts/<parts>``; return what is wrong with it, if anything."""
    if not parts or not ACCOUNT_ID.fullmatch(parts[0]):
        got = repr(parts[0]) if parts else "nothing"
        return f"must be accounts/<12-digit account id>/..., got {got}"
    account, rest = parts[0], parts[1:]
    if rest == ["mode"]:
        try:
            modes[account] = Mode(_choice(raw, tuple(m.value for m in Mode)))
        except ValueError as exc:
            modes[account] = Mode.ALERT  # an account whose cap cannot be read is alert-only until fixed
            return str(exc)
        return None
    if rest and rest[0] == "rules":
        return values.setdefault(account, _RuleValues()).add(rest[1:], raw)
    return f"an account's settings are mode and rules/<rule-id>/<setting>, got {'/'.join(rest) or 'nothing'!r}"


def load_settings(values: Mapping[str, Any]) -> Settings:
    """Strict variant of ``parse_settings``: any invalid key raises ``SettingsError``."""
    settings, problems = parse_settings(values)
    if problems:
        raise SettingsError(problems)
    return settings


def settings_from_parameters(parameters: Mapping[str, str], prefix: str) -> tuple[Settings, list[SettingsProblem]]:
    """Build settings from SSM parameters named ``<prefix>/<path>`` (e.g. from GetParametersByPath)."""
    root = prefix.rstrip("/") + "/"
    values = {name[len(root) :]: value for name, value in parameters.items() if name.startswith(root)}
    return parse_settings(values)


def flatten(values: Mapping[str, Any], parent: str = "") -> dict[str, Any]:
    """Turn nested mappings into ``a/b/c`` paths; lists and scalars are leaves."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        path = f"{parent}/{key}" if parent else str(key).strip("/")
        if isinstance(value, Mapping):
            flat.update(flatten(value, path))
        else:
            flat[path] = value
    return flat


def _convert_option(spec: OptionSpec, raw: Any) -> str | tuple[str, ...]:
    if spec.kind == "choice":
        return _choice(raw, spec.choices)
    if spec.kind == "fingerprints":
        return sha256_fingerprints(raw)
    patterns = _patterns(raw)
    _refuse_match_all(patterns, "the allowlist would exempt everything and switch the rule off")
    return patterns


class _SwitchError(ValueError):
    """An unreadable kill switch: reported, and the switch taken as ``fallback``."""

    def __init__(self, message: str, fallback: str) -> None:
        super().__init__(message)
        self.fallback = fallback


def matches_everything(pattern: str) -> bool:
    """Whether a pattern matches every name of its kind: ``*``, ``/``, ``arn:aws:iam::*:role/*``, ``service-role/*``.

    The last segment (after the last ``:`` or ``/``, a trailing ``/`` ignored) decides: if it is empty or
    only wildcards with a ``*``, the pattern names no one in particular. In a session pattern
    (``arn:aws:sts::1:assumed-role/<role>/*``, every session of one role: the usual way to name an SSO role's
    people) the role decides, not the session name.
    """
    text = pattern.strip()
    trimmed = text.rstrip("/")
    segments = re.split(r"[:/]", trimmed) if trimmed else [""]
    last = segments[-2] if len(segments) >= 3 and segments[-3] == "assumed-role" else segments[-1]
    return not last or (set(last) <= {"*", "?"} and "*" in last)


def _refuse_match_all(patterns: tuple[str, ...], consequence: str) -> None:
    """Settings that would switch the guard off are invalid values, named in the configuration alert."""
    broad = [pattern for pattern in patterns if matches_everything(pattern)]
    if broad:
        raise ValueError(f"{', '.join(map(repr, broad))} matches everything: {consequence}; name them instead")


def _bounded_int(raw: Any, low: int, high: int) -> int:
    if isinstance(raw, bool):
        raise ValueError(f"must be a whole number from {low} to {high}, got {raw!r}")
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise ValueError(f"must be a whole number from {low} to {high}, got {raw!r}") from None
    if not low <= value <= high:
        raise ValueError(f"must be a whole number from {low} to {high}, got {value}")
    return value


def _convert_global(kind: str, raw: Any) -> str | tuple[str, ...] | None:
    if kind == "organization":
        return _organization(raw)
    if kind == "accounts":
        return _accounts(raw)
    if kind == "networks":
        return _identifiers(raw, _NETWORK_ID, "VPC or VPC endpoint ids like vpce-0a1b2c3d4e5f67890")
    if kind == "canonical_ids":
        return _identifiers(raw, _CANONICAL_ID, "S3 canonical user ids (64 hexadecimal digits)")
    if kind == "github_owners":
        _refuse_match_all(_patterns(raw), "every GitHub repository in the world could assume the roles")
        return _identifiers(raw, GITHUB_OWNER, "GitHub owner names like acme (no wildcards)")
    if kind == "identity_pools":
        _refuse_match_all(_patterns(raw), "every Cognito identity pool could assume the roles")
        return _identifiers(raw, IDENTITY_POOL_ID, "Cognito identity pool ids like us-east-1:0a1b2c3d-…")
    if kind == "roles":
        roles = _patterns(raw)
        if not roles:
            raise ValueError("must name at least one role pattern, or IAM Warden would act on its own changes")
        _refuse_match_all(roles, "IAM Warden would ignore every role's changes")
        return roles
    if kind == "on_off":
        return _choice(raw, ("on", "off"))
    if kind == "switch":
        if raw is False:  # YAML 1.1 reads an unquoted `off` as false
            return "off"
        if not isinstance(raw, str) or raw.strip().lower() not in ("on", "off"):
            # A kill switch that cannot be read is off: someone meant to change it.
            raise _SwitchError(f"must be on or off, got {raw!r}; enforcement is off until it is fixed", "off")
        return raw.strip().lower()
    patterns = _patterns(raw)
    if kind == "patterns":  # break_glass_principals: each must name principals, not everyone
        _refuse_match_all(patterns, "every principal would be break-glass, and nothing would ever be remediated")
    return patterns


def _organization(raw: Any) -> str | None:
    if raw in (None, ""):
        return None
    if not isinstance(raw, str) or not ORGANIZATION_ID.fullmatch(raw):
        raise ValueError(f"must be an organization id like o-a1b2c3d4e5, got {raw!r}")
    return raw


def _accounts(raw: Any) -> tuple[str, ...]:
    return _identifiers(raw, ACCOUNT_ID, "12-digit account ids")


def _identifiers(raw: Any, shape: str | re.Pattern[str], what: str) -> tuple[str, ...]:
    items = _string_list(raw)
    bad = [item for item in items if not re.fullmatch(shape, item)]
    if bad:
        raise ValueError(f"must be {what}, got {', '.join(map(repr, bad))}")
    return tuple(items)


def sha256_fingerprints(raw: Any) -> tuple[str, ...]:
    """SHA-256 fingerprints as ``openssl x509 -fingerprint -sha256`` prints them, or bare hex: colons optional, any
    case (``AB:CD:…`` or ``abcd…``), kept as 64 lower-case hex digits. Exact values: a wildcard would trust keys
    nobody named."""
    items = _string_list(raw)
    kept = tuple(re.sub(r"[:\s]", "", item).lower() for item in items)
    bad = [item for item, bare in zip(items, kept, strict=True) if not re.fullmatch(r"[0-9a-f]{64}", bare)]
    if bad:
        raise ValueError(
            f"must be SHA-256 fingerprints (64 hexadecimal digits, colons optional), got {', '.join(map(repr, bad))}"
        )
    return kept


def _patterns(raw: Any) -> tuple[str, ...]:
    return tuple(_string_list(raw))


def _choice(raw: Any, choices: tuple[str, ...]) -> str:
    if raw is False and "off" in choices:  # YAML 1.1 reads an unquoted `off` as false
        return "off"
    if not isinstance(raw, str) or raw.strip().lower() not in choices:
        raise ValueError(f"must be one of {', '.join(choices)}, got {raw!r}")
    return raw.strip().lower()


def _string_list(raw: Any) -> list[str]:
    """Accept a list, a JSON list string, or an SSM StringList (comma-separated)."""
    if raw is None:
        return []
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("["):
            try:
                raw = json.loads(text)
            except ValueError as exc:
                raise ValueError(f"is not a valid JSON list: {exc}") from exc
        else:
            return [item.strip() for item in text.split(",") if item.strip()]
    if isinstance(raw, list) and all(isinstance(item, str | int) and not isinstance(item, bool) for item in raw):
        return [str(item).strip() for item in raw if str(item).strip()]
    raise ValueError(f"must be a list of strings, got {raw!r}")


def _unknown(name: str, known: Mapping[str, Any], what: str) -> str:
    import difflib  # noqa: PLC0415 - only a misspelt setting needs it (tests/unit/test_layers.py, LAZY_IMPORTS)

    close = difflib.get_close_matches(name, list(known), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(sorted(known))}"
    return f"unknown {what} {name!r}{hint}"


# --------------------------------------------------------------------------- Slack interactions (issue 17)

#: ``slack/<key>``: who may act on an alert from Slack (read by the interaction endpoint; see ``parse_slack_settings``).
SLACK_KEYS: Mapping[str, str] = {
    "approvers": "Slack user ids (U…, W…) or user-group ids (S…) that may approve exceptions and undo anything",
    "owners_may_undo": "on lets the owner team's Slack users (alerts/teams/<team>/slack_users) undo remediations "
    "of their own resources; off (the default) leaves undo to the approvers",
}
SLACK_USER_ID = r"[UW][A-Z0-9]{2,20}"
SLACK_GROUP_ID = r"S[A-Z0-9]{2,20}"


class SlackSettings(NamedTuple):
    approvers: frozenset[str] = frozenset()
    owners_may_undo: bool = False


def parse_slack_settings(values: Mapping[str, Any]) -> tuple[SlackSettings, list[SettingsProblem]]:
    """Read the ``slack/...`` keys of a flat or nested mapping; an invalid value falls back to the safe default."""
    problems: list[SettingsProblem] = []
    approvers: frozenset[str] = frozenset()
    owners_may_undo = False
    for path, raw in flatten(values).items():
        parts = path.split("/")
        if parts[0] != "slack":
            continue
        name = "/".join(parts[1:])
        if name == "approvers":
            try:
                items = _string_list(raw)
            except ValueError as exc:
                problems.append(SettingsProblem(path, str(exc)))
                continue
            bad = [
                item for item in items if not (re.fullmatch(SLACK_USER_ID, item) or re.fullmatch(SLACK_GROUP_ID, item))
            ]
            if bad:
                problems.append(
                    SettingsProblem(
                        path, f"Slack user ids (U…, W…) or user-group ids (S…), got {', '.join(map(repr, bad))}"
                    )
                )
            approvers = frozenset(item for item in items if item not in bad)
        elif name == "owners_may_undo":
            text = str(raw).strip().lower()
            if text not in ("on", "off", "true", "false"):
                problems.append(SettingsProblem(path, f"must be on or off, got {raw!r}"))
            owners_may_undo = text in ("on", "true")
        else:
            problems.append(SettingsProblem(path, _unknown(name, SLACK_KEYS, "Slack setting")))
    return SlackSettings(approvers, owners_may_undo), problems
