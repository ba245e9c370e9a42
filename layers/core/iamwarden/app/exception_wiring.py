"""The exceptions' wiring: the desk every exception goes through, and the hourly watch.

Apart from ``iamwarden.app.wiring`` because the enforcer never builds either: its cold start imports only
the exceptions' store (``wiring.build_exception_store``), not the desk, the watch and the alert dispatcher
they bring (README, Benchmarks; ``tests/unit/test_cold_import.py``).
"""

from __future__ import annotations

import os

from iamwarden.adapters.audit import AuditLog
from iamwarden.adapters.clients import ClientFactory
from iamwarden.adapters.iam_documents import LiveManagedPolicyDocuments
from iamwarden.adapters.principals import LiveRoleDirectory
from iamwarden.adapters.ssm_settings import SsmSettingsSource, ssm_parameters
from iamwarden.alerts.notifications import Notifier
from iamwarden.alerts.settings import parse_alert_settings, security_destination
from iamwarden.app.config import EnforcerConfig
from iamwarden.app.dispatcher import build_alert_dispatcher
from iamwarden.app.exception_desk import ExceptionDesk
from iamwarden.app.exception_watch import ExceptionWatch
from iamwarden.app.executor import AccountClients
from iamwarden.app.wiring import account_regions, build_clients, build_exception_store
from iamwarden.domain.arns import partition_of
from iamwarden.domain.settings import ExceptionSettings, Settings, settings_from_parameters

#: The tampering rule, whose ``operators`` setting names who may approve the persistence rules' exceptions.
TAMPERED = "iamwarden-tampered"
#: The alert topic's name in the template (``AlertTopic``'s ``TopicName``).
ALERT_TOPIC_NAME = "iamwarden-alerts"


def desk_settings(config: EnforcerConfig, clients: ClientFactory) -> Settings:
    """``<prefix>/exceptions/...`` and the operators (``rules/iamwarden-tampered/...``) as the enforcer reads them;
    an invalid value takes its default (the enforcer alerts it as a configuration problem)."""
    root = config.settings_prefix.rstrip("/")
    ssm = clients.home_client("ssm")
    values: dict[str, str] = {}
    for path in (f"{root}/exceptions", f"{root}/rules/{TAMPERED}"):
        for page in ssm.get_paginator("get_parameters_by_path").paginate(Path=path):
            values.update({item["Name"]: item["Value"] for item in page.get("Parameters", [])})
    settings, _ = settings_from_parameters(values, root)
    return settings


def exception_settings(config: EnforcerConfig, clients: ClientFactory) -> ExceptionSettings:
    return desk_settings(config, clients).exceptions


def operators(config: EnforcerConfig, clients: ClientFactory) -> tuple[str, ...]:
    """The ARN patterns of the operators (``rules/iamwarden-tampered/operators``): who may approve exceptions to
    the persistence and evasion rules."""
    return desk_settings(config, clients).rule(TAMPERED).patterns("operators")


def alert_topic(clients: ClientFactory) -> str | None:
    """The security channel's topic: the template's variable where it is set (the functions), else the stack's
    fixed topic name in the security account (the CLI, run with an operator's credentials)."""
    if security_destination().sns_topic_arn:
        return None  # the dispatcher reads it from the environment
    region = clients.session.region_name or "us-east-1"
    return f"arn:{partition_of(region)}:sns:{region}:{clients.home_account}:{ALERT_TOPIC_NAME}"


def build_exception_desk(
    config: EnforcerConfig, clients: ClientFactory, *, notifier: Notifier | None = None
) -> ExceptionDesk:
    """The one desk every exception goes through (the CLI, the undo, Slack); approvals are announced through
    ``notifier`` (by default the alert dispatcher's security channel)."""
    return ExceptionDesk(
        build_exception_store(config, clients),
        AuditLog(config.audit_table, clients.home_client("dynamodb")),
        lambda: exception_settings(config, clients),
        operators=lambda: operators(config, clients),
        notifier=notifier or build_alert_dispatcher(clients, topic_arn=alert_topic(clients)),
        settings_prefix=config.settings_prefix,
    )


def build_exception_watch(
    config: EnforcerConfig, clients: ClientFactory | None = None, *, notifier: Notifier | None = None
) -> ExceptionWatch:
    """The hourly exception watch: the desk, the live settings, the enforcer's readers and alert channels."""
    clients = clients or build_clients(config)
    settings_source = SsmSettingsSource(
        config.settings_prefix, ssm_parameters(clients.home_client("ssm")), max_age=config.settings_max_age
    )
    dispatcher = None
    if notifier is None:
        dispatcher = build_alert_dispatcher(clients)
        notifier = dispatcher

    def settings() -> Settings:
        live = settings_source.current()
        if dispatcher is not None:
            dispatcher.settings, _ = parse_alert_settings(live.values)
        return live.settings._replace(own=config.own)

    region = os.environ.get("AWS_REGION") or "us-east-1"
    desk = ExceptionDesk(
        build_exception_store(config, clients),
        AuditLog(config.audit_table, clients.home_client("dynamodb")),
        lambda: settings().exceptions,
        operators=lambda: settings().rule(TAMPERED).patterns("operators"),
        notifier=notifier,
        settings_prefix=config.settings_prefix,
    )
    return ExceptionWatch(
        desk,
        notifier,
        settings,
        lambda account, region: AccountClients(clients, account, region),
        home_account=clients.home_account,
        region=region,
        documents=LiveManagedPolicyDocuments(clients, region),
        directory=LiveRoleDirectory(clients, region, regions=account_regions()),
        settings_prefix=config.settings_prefix,
    )
