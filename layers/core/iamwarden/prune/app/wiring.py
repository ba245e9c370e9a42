"""The pruner's wiring in one place: environment -> clients, settings, notices -> runtime.

The planner, worker and watch handlers each call ``build_prune_runtime`` once
per container, so they cannot drift apart in how they read settings or where
their notices go; ``iamwarden prune`` builds its pruner with ``build_cli_pruner``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from iamwarden.adapters.clients import ClientFactory, operator_session
from iamwarden.adapters.ssm_settings import ssm_parameters
from iamwarden.app.cli_options import caller_arn
from iamwarden.domain.exceptions import SettingsProblem
from iamwarden.prune.adapters.access_advisor import AccessAdvisor
from iamwarden.prune.adapters.alert_notices import build_prune_notice_sender
from iamwarden.prune.app.runtime import PruneRuntime, read_settings
from iamwarden.prune.app.service import Pruner
from iamwarden.prune.domain.notices import FanOutNoticeSender, LogNoticeSender

#: How long the functions cache their SSM settings (seconds).
SETTINGS_MAX_AGE = 60


def build_prune_runtime(
    logger: Any,
    environ: Mapping[str, str] | None = None,
    *,
    factory: ClientFactory | None = None,
    **runtime: Any,
) -> PruneRuntime:
    """The runtime the pruner's Lambda functions share; SSM is first read on first use, not at import.

    ``factory`` and ``runtime`` (``PruneRuntime``'s clock, catalogue, advisor_for) let a test run this exact
    wiring against an emulated account; Lambda passes neither.
    """
    env = os.environ if environ is None else environ
    factory = factory or ClientFactory(member_role_name=env.get("IAMWARDEN_MEMBER_ROLE", "iamwarden-pruner-member"))
    prefix = env.get("IAMWARDEN_SETTINGS_PREFIX", "/iamwarden")
    providers: list[Any] = []

    def provider() -> Any:
        if not providers:
            providers.append(ssm_parameters(factory.home_client("ssm")))
        return providers[0]

    return PruneRuntime(
        factory,
        table=env.get("IAMWARDEN_PRUNE_TABLE", "iamwarden-prune-state"),
        queue_url=env.get("IAMWARDEN_PRUNE_QUEUE_URL"),
        # Every notice is logged and sent through the alert channels (security, and each owner team once).
        notices=FanOutNoticeSender(
            LogNoticeSender(logger),
            build_prune_notice_sender(
                factory,
                parameters=lambda: provider().get_multiple(prefix, recursive=True, max_age=SETTINGS_MAX_AGE),
                environ=env,
            ),
        ),
        settings=lambda: read_settings(provider(), prefix),
        **runtime,
    )


def cli_caller_arn(region: str | None) -> str | None:
    """Who runs ``iamwarden prune cancel|rollback``, from STS; None if it cannot say."""
    return caller_arn(ClientFactory(session=operator_session(region)))


def build_cli_pruner(*, region: str | None, table: str, settings_prefix: str) -> tuple[Pruner, list[SettingsProblem]]:
    """The pruner ``iamwarden prune`` runs: the caller's credentials, fresh settings, notices logged only."""
    factory = ClientFactory(session=operator_session(region))

    def settings() -> Any:
        return read_settings(ssm_parameters(factory.home_client("ssm")), settings_prefix, max_age=0)

    runtime = PruneRuntime(
        factory,
        table=table,
        notices=LogNoticeSender(logging.getLogger("iamwarden")),
        settings=settings,
        advisor_for=lambda iam: AccessAdvisor(iam, polls=30),  # a person waits up to a minute, not the queue
    )
    return runtime.pruner()
