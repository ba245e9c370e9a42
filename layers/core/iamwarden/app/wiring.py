"""All of the enforcer's wiring in one place: environment -> clients -> service.

The Lambda handler and the CLI both build their objects here, so what runs in
Lambda and what an operator runs (``iamwarden undo``) share one configuration.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from iamwarden.adapters.audit import AuditLog
from iamwarden.adapters.clients import ClientFactory
from iamwarden.adapters.exception_store import CachedActiveExceptions, DeskApprovals, ExceptionStore
from iamwarden.adapters.iam_documents import LiveManagedPolicyDocuments
from iamwarden.adapters.networks import LiveNetworkOwners
from iamwarden.adapters.origin_access_identities import LiveOriginAccessIdentities
from iamwarden.adapters.principals import LiveRoleDirectory
from iamwarden.adapters.recorded import AuditRecorded
from iamwarden.adapters.ssm_settings import SsmSettingsSource, ssm_parameters
from iamwarden.alerts.settings import AlertSettings, parse_alert_settings
from iamwarden.app.config import USER_DELETION_WITHHELD, EnforcerConfig
from iamwarden.app.executor import AccountClients, RemediationExecutor
from iamwarden.app.service import EnforcerService, Telemetry
from iamwarden.domain.breaker import BreakerDecision, BreakerSettings, kill_switch_name
from iamwarden.domain.exceptions import SettingsProblem
from iamwarden.domain.findings import Finding

if TYPE_CHECKING:
    from iamwarden.adapters.breaker import KillSwitch
    from iamwarden.alerts.message import Owner
    from iamwarden.alerts.notifications import Notification, Notifier
    from iamwarden.app.breaker import CircuitBreaker
    from iamwarden.app.dispatcher import AlertDispatcher
    from iamwarden.domain.delivery import DeliveryReport


def build_clients(config: EnforcerConfig, session: Any = None) -> ClientFactory:
    return ClientFactory(config.home_account, config.member_role_name, session=session)


def build_executor(config: EnforcerConfig, clients: ClientFactory) -> RemediationExecutor:
    dynamodb = clients.home_client("dynamodb")
    audit = AuditLog(config.audit_table, dynamodb)
    return RemediationExecutor(clients, audit, recorded=AuditRecorded(audit, dynamodb))


def build_breaker(config: EnforcerConfig, clients: ClientFactory) -> CircuitBreaker:
    # Imported here: the enforcer asks the breaker only before a remediation (FirstRemediationBreaker), so a cold
    # start pays for neither its ledger nor its switch (tests/unit/test_layers.py, LAZY_IMPORTS).
    from iamwarden.adapters.breaker import KillSwitch, RemediationLedger  # noqa: PLC0415
    from iamwarden.app.breaker import CircuitBreaker  # noqa: PLC0415

    return CircuitBreaker(
        RemediationLedger(config.audit_table, clients.home_client("dynamodb")),
        KillSwitch(kill_switch_name(config.settings_prefix), clients.home_client("ssm")),
    )


class FirstRemediationBreaker:
    """The enforcer's circuit breaker (``app.breaker``), imported and built before the first remediation.

    Most events remediate nothing, and the breaker brings its ledger and kill-switch adapters (about 3 M
    instructions of every cold start, README "Benchmarks"); the kill switch is still read fresh before every
    remediation, as before.
    """

    def __init__(self, config: EnforcerConfig, clients: ClientFactory) -> None:
        self._config = config
        self._clients = clients
        self._breaker: CircuitBreaker | None = None

    @property
    def built(self) -> CircuitBreaker:
        if self._breaker is None:
            self._breaker = build_breaker(self._config, self._clients)
        return self._breaker

    @property
    def switch(self) -> KillSwitch:
        return self.built.switch

    def permit(self, account: str, remediation_id: str, settings: BreakerSettings) -> BreakerDecision:
        return self.built.permit(account, remediation_id, settings)


def build_exception_store(config: EnforcerConfig, clients: ClientFactory) -> ExceptionStore:
    return ExceptionStore(config.exceptions_table, clients.home_client("dynamodb"))


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
        dispatcher = FirstAlertDispatcher(clients, metrics)
        notifier, configure_alerts, before_remediation, set_deadline = (
            dispatcher,
            dispatcher.configure,
            dispatcher.owner_of,
            dispatcher.set_deadline,
        )
    idempotent = register = None
    if idempotency:
        first_finding = FirstFindingIdempotency(config, clients)
        idempotent, register = first_finding, first_finding.register_lambda_context

    def register_context(context: Any) -> None:
        if register is not None:
            register(context)
        if set_deadline is not None:
            set_deadline(context)
        # A quarantine's earlier-sessions lookup bounds itself by the run's time left too (review sessions-s15 F5).
        executor.remaining_seconds = lambda: context.get_remaining_time_in_millis() / 1000

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
        breaker=FirstRemediationBreaker(config, clients),
        documents=LiveManagedPolicyDocuments(clients, region),
        directory=LiveRoleDirectory(clients, region, regions=account_regions()),
        networks=LiveNetworkOwners(clients),
        origin_access_identities=LiveOriginAccessIdentities(clients),
        live_clients=lambda account, region: AccountClients(clients, account, region),
        own=config.own,
        recorded=AuditRecorded(executor.audit, clients.home_client("dynamodb")),
        exceptions=CachedActiveExceptions(
            build_exception_store(config, clients), config.settings_max_age, approvals=DeskApprovals(executor.audit)
        ),
        max_event_age=timedelta(seconds=config.max_event_age_seconds) if config.max_event_age_seconds else None,
    )


class FirstFindingIdempotency:
    """Powertools Idempotency (keyed on ``detail.eventID``), imported and configured with the first event that has
    something to record.

    ``EnforcerService`` puts only those events through it; an event it judges with nothing to record is
    answered without it. Most events are such, and Idempotency is ~12 M instructions of a cold start (README,
    Benchmarks). The invocation's Lambda context is registered whenever the enforcer is invoked, as before.
    """

    def __init__(self, config: EnforcerConfig, clients: ClientFactory) -> None:
        self._config = config
        self._clients = clients
        self._context: Any = None
        self._idempotency_config: Any = None
        self._decorate: Callable[[Callable[..., Any]], Callable[..., Any]] | None = None

    def register_lambda_context(self, context: Any) -> None:
        self._context = context
        if self._idempotency_config is not None:
            self._idempotency_config.register_lambda_context(context)

    def __call__(self, function: Callable[..., Any]) -> Callable[..., Any]:
        """``function`` made idempotent on its ``event`` argument, the first time it is called."""
        made: list[Callable[..., Any]] = []

        def once_in_effect(**arguments: Any) -> Any:
            if not made:
                made.append(self.decorator()(function))
            return made[0](**arguments)

        return once_in_effect

    def decorator(self) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        if self._decorate is None:
            # Imported here, with the first event that has something to record (tests/unit/test_layers.py).
            from aws_lambda_powertools.utilities.idempotency import (  # noqa: PLC0415
                DynamoDBPersistenceLayer,
                IdempotencyConfig,
                idempotent_function,
            )

            store = DynamoDBPersistenceLayer(
                table_name=self._config.idempotency_table, boto3_client=self._clients.home_client("dynamodb")
            )
            idempotency_config = IdempotencyConfig(
                event_key_jmespath="detail.eventID",
                expires_after_seconds=self._config.idempotency_seconds,
                raise_on_no_idempotency_key=False,  # an event without an id is invalid and judged as such
            )
            if self._context is not None:
                idempotency_config.register_lambda_context(self._context)
            self._idempotency_config = idempotency_config

            def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
                made: Callable[..., Any] = idempotent_function(
                    data_keyword_argument="event", config=idempotency_config, persistence_store=store
                )(function)
                return made

            self._decorate = decorate
        return self._decorate


class FirstAlertDispatcher:
    """The enforcer's alert dispatcher (``app.dispatcher``), imported and built with the first alert.

    Most events alert nothing, and the dispatcher brings the alert model, its renderers and the SNS and
    owner adapters: some 20 M instructions of every cold start (README, Benchmarks). The ``alerts/...``
    settings are still parsed with every event, so their problems are reported as before; the dispatcher
    gets the latest settings and the invocation's deadline whenever it is used.
    """

    def __init__(self, clients: ClientFactory, metrics: Any = None) -> None:
        self._clients = clients
        self._metrics = metrics
        self._dispatcher: AlertDispatcher | None = None
        self.settings = AlertSettings()
        self.remaining_seconds: Any = None

    def configure(self, values: Mapping[str, str]) -> list[SettingsProblem]:
        self.settings, problems = parse_alert_settings(values)
        return problems

    def set_deadline(self, context: Any) -> None:
        self.remaining_seconds = lambda: context.get_remaining_time_in_millis() / 1000

    def notify(self, notification: Notification) -> DeliveryReport:
        return self.dispatcher().notify(notification)

    def owner_of(self, finding: Finding) -> Owner | None:
        return self.dispatcher().owner_of(finding)

    def dispatcher(self) -> AlertDispatcher:
        if self._dispatcher is None:
            # Imported here, with the first alert (tests/unit/test_layers.py, LAZY_IMPORTS).
            from iamwarden.app.dispatcher import build_alert_dispatcher  # noqa: PLC0415

            self._dispatcher = build_alert_dispatcher(self._clients, metrics=self._metrics)
        self._dispatcher.settings = self.settings
        self._dispatcher.remaining_seconds = self.remaining_seconds
        return self._dispatcher


def account_regions() -> tuple[str, ...]:
    """The regions where the guarded accounts keep resources (``IAMWARDEN_REGIONS``, comma-separated).

    The live directory reads them for a grant on every region (``lambda:UpdateFunctionCode`` on ``*``);
    unset, it reads its own region only and says the others were not read.
    """
    listed = os.environ.get("IAMWARDEN_REGIONS", "")
    return tuple(region.strip() for region in listed.split(",") if region.strip())
