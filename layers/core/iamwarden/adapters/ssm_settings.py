"""Live settings from SSM Parameter Store.

Every parameter under the prefix is fetched in one GetParametersByPath walk
and cached for ``max_age`` seconds (``SsmParameters``), so an operator's change takes effect
within that time without a redeploy, and a busy enforcer makes one SSM call
a minute rather than one per event. Missing parameters take their documented
defaults; invalid ones are reported (and their rule falls back to ``alert``)
by ``parse_settings``. If SSM itself cannot be read, the event fails and is
retried (and dead-lettered): acting on guessed settings is never an option.
"""

import time
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from iamwarden.domain.exceptions import IamWardenError, SettingsProblem
from iamwarden.domain.own import OwnIdentity
from iamwarden.domain.settings import SETTINGS_MAX_AGE_SECONDS, RefusedValue, Settings, parse_settings
from iamwarden.domain.settings_guard import known_good_version


class SettingsUnavailableError(IamWardenError):
    """SSM Parameter Store could not be read."""


class LiveSettings(NamedTuple):
    settings: Settings
    problems: tuple[SettingsProblem, ...]
    #: Every parameter under the prefix, relative to it (``rules/iam-user-created/mode``).
    values: dict[str, str]


class SsmParameters:
    """Every parameter under a path, as Powertools' ``SSMProvider.get_multiple`` reads them, cached ``max_age`` seconds.

    The one call the enforcer and the pruner make of Powertools Parameters, without importing it: that package
    loads its AppConfig, DynamoDB and Secrets Manager providers too, some 15 M instructions of the enforcer's
    cold import (README, Benchmarks). Same reading: one ``GetParametersByPath`` walk (values as stored, never
    decrypted), names relative to ``path``; ``max_age`` 0 reads afresh every time.
    """

    def __init__(self, client: Any, clock: Any = time.monotonic) -> None:
        self.client = client
        self._clock = clock
        self._cache: dict[str, tuple[float, dict[str, str]]] = {}

    def get_multiple(self, path: str, *, max_age: int, recursive: bool = False) -> dict[str, str]:
        cached = self._cache.get(path)
        if cached is not None and self._clock() < cached[0]:
            return cached[1]
        values: dict[str, str] = {}
        pages = self.client.get_paginator("get_parameters_by_path").paginate(
            Path=path, WithDecryption=False, Recursive=recursive
        )
        for page in pages:
            for parameter in page.get("Parameters", []):
                name = parameter["Name"]
                if name.startswith(path):
                    name = name[len(path) :]
                values[name.lstrip("/")] = parameter["Value"]
        if max_age > 0:
            self._cache[path] = (self._clock() + max_age, values)
        return values

    def clear_cache(self) -> None:
        """Forget every cached path (as Powertools' providers do): the next read walks the parameters again."""
        self._cache.clear()


def ssm_parameters(ssm_client: Any) -> SsmParameters:
    """The SSM parameter reader over one of IAM Warden's clients (parameter readers are adapters: they call AWS)."""
    return SsmParameters(ssm_client)


class SsmSettingsSource:
    """Reads ``<prefix>/...`` parameters with a short cache."""

    def __init__(
        self,
        prefix: str,
        provider: Any,
        *,
        max_age: int = SETTINGS_MAX_AGE_SECONDS,
        refused: Sequence[RefusedValue] = (),
    ) -> None:
        self.prefix = "/" + prefix.strip("/")
        self.provider = provider
        self.max_age = max_age
        self.refused = tuple(refused)

    def current(self) -> LiveSettings:
        try:
            values = self.provider.get_multiple(self.prefix, recursive=True, max_age=self.max_age)
        except Exception as exc:  # any SSM or SDK failure: the event is retried, never judged on guessed settings
            raise SettingsUnavailableError(f"cannot read settings under {self.prefix} from SSM: {exc}") from exc
        settings, problems = parse_settings(dict(values), refused=self.refused)
        return LiveSettings(settings, tuple(problems), dict(values))

    def before(self, written: Mapping[str, int | None], own: OwnIdentity | None = None) -> LiveSettings:
        """The settings as they were before a write of ``written`` (full name -> the version it made, None: deleted).

        A settings write is judged by these, so it cannot approve itself (``settings_guard.guarding_a_settings_write``):
        each written parameter takes the value of its newest known good version before the write
        (``settings_guard.known_good_version``: written by an operator, by IAM Warden itself (``own``), or holding the
        template's value), never simply the version before it, which may be the intruder's own earlier write (audit
        s7 gap 3). Who is an operator is read from the settings without the written parameters, so a write to
        ``operators`` cannot vouch for itself. A parameter with none known good, deleted (a deleted parameter's
        history is gone) or whose history cannot be read takes its default: never more lenient than an intruder's
        value (no operators, every account managed).
        """
        live = self.current()
        values = dict(live.values)
        relatives = {name: name[len(self.prefix) :].strip("/") for name in written}
        unwritten = {key: value for key, value in values.items() if key not in relatives.values()}
        vouching = parse_settings(unwritten, refused=self.refused)[0]
        if own is not None:
            vouching = vouching._replace(own=own)
        for name, version in written.items():
            relative = relatives[name]
            if not relative:
                continue
            previous = self._known_good_value(name, version, vouching)
            if previous is None:
                values.pop(relative, None)
            else:
                values[relative] = previous
        settings, problems = parse_settings(dict(values), refused=self.refused)
        return LiveSettings(settings, tuple(problems), values)

    def _known_good_value(self, name: str, version: int | None, vouching: Settings) -> str | None:
        """The value of ``name``'s newest known good version before ``version``, or None (none, deleted, or an
        unreadable history)."""
        if version is None:
            return None
        client = getattr(self.provider, "client", None)
        if client is None:
            return None
        history: list[Mapping[str, Any]] = []
        token: str | None = None
        try:
            while True:
                page = client.get_parameter_history(Name=name, **({"NextToken": token} if token else {}))
                history.extend(page.get("Parameters", []))
                token = page.get("NextToken")
                if not token:
                    break
        except Exception:  # unreadable history: the default, which is never more lenient than the write
            return None
        known = known_good_version(history, name, version, vouching)
        return str(known.entry.get("Value", "")) if known.entry is not None else None
