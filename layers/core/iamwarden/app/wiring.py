"""All of the enforcer's wiring in one place: environment -> clients -> service.

The Lambda handler and the CLI both build their objects here, so what runs in
Lambda and what an operator runs (``iamwarden undo``) share one configuration.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from iamwarden.adapters.audit import AuditLog
from iamwarden.adapters.breaker import KillSwitch, RemediationLedger
from iamwarden.adapters.clients import ClientFactory
from iamwarden.adapters.exception_store import CachedActiveExceptions, ExceptionStore
from iamwarden.adapters.iam_documents import LiveManagedPolicyDocuments
from iamwarden.adapters.networks import LiveNetworkOwners
from iamwarden.adapters.origin_access_identities import LiveOriginAccessIdentities
from iamwarden.adapters.principals import LiveRoleDirectory
from iamwarden.adapters.recorded import AuditRecorded
from iamwarden.adapters.ssm_settings import SsmSettingsSource, ssm_parameters
from iamwarden.alerts.notifications import Notifier
from iamwarden.alerts.settings import parse_alert_settings
from iamwarden.app.breaker import CircuitBreaker
from iamwarden.app.config import EnforcerConfig
from iamwarden.app.dispatcher import build_alert_dispatcher
from iamwarden.app.exception_desk import ExceptionDesk
from iamwarden.app.exception_watch import ExceptionWatch
from iamwarden.app.executor import AccountClients, RemediationExecutor
from iamwarden.app.service import EnforcerService, Telemetry
from iamwarden.domain.breaker import kill_switch_name
from iamwarden.domain.settings import ExceptionSettings, Settings, settings_from_parameters
from iamwarden.guardrails.iam_user import USER_DELETION_WITHHELD


def build_clients(config: EnforcerConfig, session: Any = None) -> ClientFactory:
    return ClientFactory(config.home_account, config.member_role_name, session=session)


def build_executor(config: EnforcerConfig, clients: ClientFactory) -> RemediationExecutor:
    return RemediationExecutor(clients, AuditLog(config.audit_table, clients.home_client("dynamodb")))


def build_breaker(config: EnforcerConfig, clients: ClientFactory) -> CircuitBreaker:
    return CircuitBreaker(
        RemediationLedger(config.audit_table, clients.home_client("dynamodb")),
        KillSwitch(kill_switch_name(config.settings_prefix), clients.home_client("ssm")),
    )


def build_exception_store(config: EnforcerConfig, clients: ClientFactory) -> ExceptionStore:
    return ExceptionStore(config.exceptions_table, clients.home_client("dynamodb"))


def exception_settings(config: EnforcerConfig, clients: ClientFactory) -> ExceptionSettings:
    """``<prefix>/exceptions/...`` as the enforcer reads them; an invalid value takes its default (the enforcer
    alerts it as a configuration problem)."""
    root = config.settings_prefix.rstrip("/")
    ssm = clients.home_client("ssm")
    values: dict[str, str] = {}
    for page in ssm.get_paginator("get_parameters_by_path").paginate(Path=f"{root}/exceptions"):
        values.update({item["Name"]: item["Value"] for item in page.get("Parameters", [])})
    settings, _ = settings_from_parameters(values, root)
    return settings.exceptions


def build_exception_desk(config: EnforcerConfig, clients: ClientFactory) -> ExceptionDesk:
    """The one desk every exception goes through (the CLI, the undo, Slack, the watch)."""
    return ExceptionDesk(
        build_exception_store(config, clients),
        AuditLog(config.audit_table, clients.home_client("dynamodb")),
        lambda: exception_settings(config, clients),
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


def build_enforcer_service(
    config: EnforcerConfig,
    *,
    clients: ClientFactory | None = None,
    notifier: Notifier | None = None,
    telemetry: Telemetry | None = None,
    metrics: Any = None,
    idempotency: bool = True,
) -> EnforcerService:
    """The enforcer as Lambda runs it: SSM settings, DynamoDB audit and idempotency, the alert channels.

    ``notifier`` replaces the alert channels (tests); ``metrics`` (Powertools ``Metrics``) counts deliveries.
    """
    clients = clients or build_clients(config)
    executor = build_executor(config, clients)
    provider = ssm_parameters(clients.home_client("ssm"))
    refused = () if config.user_remediation == "delete" else (USER_DELETION_WITHHELD,)
    settings_source = SsmSettingsSource(
        config.settings_prefix, provider, max_age=config.settings_max_age, refused=refused
    )
    configure_alerts = before_remediation = None
    set_deadline: Any = None
    if notifier is None:
        dispatcher = build_alert_dispatcher(clients, metrics=metrics)

        def configure(values: Mapping[str, str]) -> list[Any]:
            dispatcher.settings, problems = parse_alert_settings(values)
            return problems

        def deadline(context: Any) -> None:
            dispatcher.remaining_seconds = lambda: context.get_remaining_time_in_millis() / 1000

        notifier, configure_alerts, before_remediation, set_deadline = (
            dispatcher,
            configure,
            dispatcher.owner_of,
            deadline,
        )
    idempotent = register = None
    if idempotency:
        store = DynamoDBPersistenceLayer(
            table_name=config.idempotency_table, boto3_client=clients.home_client("dynamodb")
        )
        idempotency_config = IdempotencyConfig(
            event_key_jmespath="detail.eventID",
            expires_after_seconds=config.idempotency_seconds,
            raise_on_no_idempotency_key=False,  # an event without an id is invalid and judged as such
        )

        def idempotent(function: Any) -> Any:
            return idempotent_function(
                data_keyword_argument="event", config=idempotency_config, persistence_store=store
            )(function)

        register = idempotency_config.register_lambda_context

    def register_context(context: Any) -> None:
        if register is not None:
            register(context)
        if set_deadline is not None:
            set_deadline(context)

    region = os.environ.get("AWS_REGION") or "us-east-1"
    return EnforcerService(
        settings_source=settings_source,
        executor=executor,
        notifier=notifier,
        telemetry=telemetry,
        idempotent=idempotent,
        register_context=register_context,
        configure_alerts=configure_alerts,
        before_remediation=before_remediation,
        breaker=build_breaker(config, clients),
        documents=LiveManagedPolicyDocuments(clients, region),
        directory=LiveRoleDirectory(clients, region, regions=account_regions()),
        networks=LiveNetworkOwners(clients),
        origin_access_identities=LiveOriginAccessIdentities(clients),
        live_clients=lambda account, region: AccountClients(clients, account, region),
        own=config.own,
        recorded=AuditRecorded(executor.audit, clients.home_client("dynamodb")),
        exceptions=CachedActiveExceptions(build_exception_store(config, clients), config.settings_max_age),
    )


def account_regions() -> tuple[str, ...]:
    """The regions where the guarded accounts keep resources (``IAMWARDEN_REGIONS``, comma-separated).

    The live directory reads them for a grant on every region (``lambda:UpdateFunctionCode`` on ``*``);
    unset, it reads its own region only and says the others were not read.
    """
    listed = os.environ.get("IAMWARDEN_REGIONS", "")
    return tuple(region.strip() for region in listed.split(",") if region.strip())
