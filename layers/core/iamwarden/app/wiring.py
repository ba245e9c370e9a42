"""All of the enforcer's wiring in one place: environment -> clients -> service.

The Lambda handler and the CLI both build their objects here, so what runs in
Lambda and what an operator runs (``iamwarden undo``) share one configuration.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, NamedTuple

from iamwarden.adapters.audit import AuditLog
from iamwarden.adapters.breaker import KillSwitch, RemediationLedger
from iamwarden.adapters.clients import ClientFactory
from iamwarden.adapters.ssm_settings import DEFAULT_MAX_AGE_SECONDS, SsmSettingsSource
from iamwarden.app.breaker import CircuitBreaker
from iamwarden.app.executor import RemediationExecutor
from iamwarden.app.notifications import Notifier
from iamwarden.app.service import EnforcerService, Telemetry
from iamwarden.domain.exceptions import IamWardenError
from iamwarden.domain.managed_documents import LiveManagedPolicyDocuments

#: The names template.yaml gives its resources; the environment overrides each.
DEFAULTS: Mapping[str, str] = {
    "IAMWARDEN_SETTINGS_PREFIX": "/iamwarden",
    "IAMWARDEN_SETTINGS_MAX_AGE": str(DEFAULT_MAX_AGE_SECONDS),
    "IAMWARDEN_AUDIT_TABLE": "iamwarden-audit",
    "IAMWARDEN_IDEMPOTENCY_TABLE": "iamwarden-idempotency",
    "IAMWARDEN_MEMBER_ROLE_NAME": "iamwarden-remediator",
    "IAMWARDEN_DEAD_LETTER_QUEUE": "iamwarden-enforcer-dlq",
    "IAMWARDEN_ENFORCER_FUNCTION": "iamwarden-enforcer",
    #: Seconds an event's idempotency record is kept (EventBridge and Lambda retry for at most a day).
    "IAMWARDEN_IDEMPOTENCY_SECONDS": str(2 * 24 * 3600),
}


class EnforcerConfig(NamedTuple):
    settings_prefix: str
    settings_max_age: int
    audit_table: str
    idempotency_table: str
    member_role_name: str
    dead_letter_queue: str
    enforcer_function: str
    idempotency_seconds: int
    home_account: str | None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> EnforcerConfig:
        env = os.environ if environ is None else environ

        def value(name: str) -> str:
            return env.get(name) or DEFAULTS[name]

        def number(name: str) -> int:
            raw = value(name)
            try:
                parsed = int(raw)
            except ValueError as exc:
                raise IamWardenError(f"{name} must be a whole number of seconds, got {raw!r}") from exc
            if parsed < 0:
                raise IamWardenError(f"{name} must not be negative, got {raw!r}")
            return parsed

        return cls(
            settings_prefix=value("IAMWARDEN_SETTINGS_PREFIX"),
            settings_max_age=number("IAMWARDEN_SETTINGS_MAX_AGE"),
            audit_table=value("IAMWARDEN_AUDIT_TABLE"),
            idempotency_table=value("IAMWARDEN_IDEMPOTENCY_TABLE"),
            member_role_name=value("IAMWARDEN_MEMBER_ROLE_NAME"),
            dead_letter_queue=value("IAMWARDEN_DEAD_LETTER_QUEUE"),
            enforcer_function=value("IAMWARDEN_ENFORCER_FUNCTION"),
            idempotency_seconds=number("IAMWARDEN_IDEMPOTENCY_SECONDS"),
            home_account=env.get("IAMWARDEN_HOME_ACCOUNT") or None,
        )


def build_clients(config: EnforcerConfig, session: Any = None) -> ClientFactory:
    return ClientFactory(config.home_account, config.member_role_name, session=session)


def build_executor(config: EnforcerConfig, clients: ClientFactory) -> RemediationExecutor:
    return RemediationExecutor(clients, AuditLog(config.audit_table, clients.home_client("dynamodb")))


def kill_switch_name(settings_prefix: str) -> str:
    """The SSM parameter that switches remediation on or off (template.yaml's KillSwitchParameter)."""
    return f"{settings_prefix.rstrip('/')}/enforcement"


def build_breaker(config: EnforcerConfig, clients: ClientFactory) -> CircuitBreaker:
    return CircuitBreaker(
        RemediationLedger(config.audit_table, clients.home_client("dynamodb")),
        KillSwitch(kill_switch_name(config.settings_prefix), clients.home_client("ssm")),
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
    from aws_lambda_powertools.utilities.parameters import SSMProvider  # noqa: PLC0415

    clients = clients or build_clients(config)
    executor = build_executor(config, clients)
    provider = SSMProvider(boto3_client=clients.home_client("ssm"))
    settings_source = SsmSettingsSource(config.settings_prefix, provider, max_age=config.settings_max_age)
    configure_alerts = before_remediation = None
    set_deadline: Any = None
    if notifier is None:
        from iamwarden.alerts.settings import parse_alert_settings  # noqa: PLC0415
        from iamwarden.app.dispatcher import build_alert_dispatcher  # noqa: PLC0415

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
        from aws_lambda_powertools.utilities.idempotency import (  # noqa: PLC0415
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            idempotent_function,
        )

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
        documents=LiveManagedPolicyDocuments(clients, os.environ.get("AWS_REGION") or "us-east-1"),
    )
