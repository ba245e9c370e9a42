"""The enforcer's configuration: the names template.yaml gives its resources, read from the environment.

Pure (no AWS, no Powertools), so the CLI's parser can show the defaults and ``iamwarden evaluate``
runs where only PyYAML is installed; ``iamwarden.app.wiring`` builds the clients and the service from it.
"""

import os
from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

from iamwarden.domain import declared
from iamwarden.domain.exceptions import ConfigurationError
from iamwarden.domain.own import OwnIdentity, own_roles_from_environment
from iamwarden.domain.settings import SETTINGS_MAX_AGE_SECONDS, RefusedValue

#: The names template.yaml gives its resources; the environment overrides each.
DEFAULTS: Mapping[str, str] = {
    "IAMWARDEN_SETTINGS_PREFIX": "/iamwarden",
    "IAMWARDEN_SETTINGS_MAX_AGE": str(SETTINGS_MAX_AGE_SECONDS),
    "IAMWARDEN_AUDIT_TABLE": "iamwarden-audit",
    "IAMWARDEN_EXCEPTIONS_TABLE": "iamwarden-exceptions",
    "IAMWARDEN_IDEMPOTENCY_TABLE": "iamwarden-idempotency",
    "IAMWARDEN_MEMBER_ROLE_NAME": "iamwarden-remediator",
    "IAMWARDEN_DEAD_LETTER_QUEUE": "iamwarden-enforcer-dlq",
    "IAMWARDEN_ENFORCER_FUNCTION": "iamwarden-enforcer",
    #: Seconds an event's idempotency record is kept (EventBridge and Lambda retry for at most a day).
    "IAMWARDEN_IDEMPOTENCY_SECONDS": str(2 * 24 * 3600),
    #: Findings of an event older than this are only alerted (``domain.replays``); 0: age not checked. The
    #: template sets the rules' maximum event age plus a margin.
    "IAMWARDEN_MAX_EVENT_AGE_SECONDS": "0",
}

#: Deleting users needs permissions the template grants only with UserRemediation=delete; without them the
#: setting is refused (a configuration alert) and users are quarantined, never left alone on an AccessDenied.
#: The iam-user-created rule's option, named here rather than in ``guardrails.iam_user`` so that the wiring
#: does not import that guardrail at every cold start (tests/unit/test_config.py keeps them in step).
USER_DELETION_WITHHELD = RefusedValue(
    "iam-user-created",
    "remediation",
    "delete",
    "quarantine",
    "the stack was deployed with UserRemediation=quarantine, so its roles hold no permission to delete users "
    "(redeploy with UserRemediation=delete to allow it)",
)


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
    #: The template's UserRemediation: only ``delete`` grants the roles what deleting a user takes.
    user_remediation: str = "delete"
    #: Findings of an event older than this many seconds are only alerted (``domain.replays``); 0: not checked.
    max_event_age_seconds: int = 0
    #: IAM Warden's own roles by exact ARN (IAMWARDEN_OWN_ROLE_ARNS, IAMWARDEN_MEMBER_ROLE_NAMES from the template).
    own: OwnIdentity = OwnIdentity()
    #: The rule exceptions' table (``adapters.exception_store``).
    exceptions_table: str = DEFAULTS["IAMWARDEN_EXCEPTIONS_TABLE"]

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> "EnforcerConfig":
        env = os.environ if environ is None else environ

        def value(name: str) -> str:
            return env.get(name) or DEFAULTS[name]

        def number(name: str) -> int:
            raw = value(name)
            try:
                parsed = int(raw)
            except ValueError as exc:
                raise ConfigurationError(f"{name} must be a whole number of seconds, got {raw!r}") from exc
            if parsed < 0:
                raise ConfigurationError(f"{name} must not be negative, got {raw!r}")
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
            max_event_age_seconds=number("IAMWARDEN_MAX_EVENT_AGE_SECONDS"),
            home_account=env.get("IAMWARDEN_HOME_ACCOUNT") or None,
            user_remediation=_user_remediation(env.get("IAMWARDEN_USER_REMEDIATION") or "quarantine"),
            own=own_identity_from_environment(env),
            exceptions_table=value("IAMWARDEN_EXCEPTIONS_TABLE"),
        )


def _user_remediation(value: str) -> str:
    if value not in ("quarantine", "delete"):
        raise ConfigurationError(f"IAMWARDEN_USER_REMEDIATION must be quarantine or delete, got {value!r}")
    return value


def own_identity_from_environment(environ: Mapping[str, str] | None = None) -> OwnIdentity:
    """IAM Warden's own roles as the template declares them; none at all where the environment names none.

    ``IAMWARDEN_OWN_ROLE_ARNS``: ``kind=arn`` of the security account's roles (``!GetAtt Role.Arn``);
    ``IAMWARDEN_MEMBER_ROLE_NAMES``: ``kind=name`` of the member stack's roles (path /, other accounts).
    ``IAMWARDEN_ENFORCER_POLICY_ARNS`` / ``IAMWARDEN_MEMBER_POLICY_NAMES``: the stack's managed policies by ARN,
    the member stack's by name (path /, other accounts).
    Offline (``iamwarden evaluate`` without them) nothing is IAM Warden's own, so its roles are judged too.
    """
    env = os.environ if environ is None else environ
    home, home_roles, member_roles = own_roles_from_environment(env)
    # The template's numbers (the Slack endpoint's 5), and the enforcer's from its parameter; deployed only.
    reserved: dict[str, int] = dict(declared.RESERVED_CONCURRENCY) if home is not None else {}
    concurrency = env.get("IAMWARDEN_ENFORCER_RESERVED_CONCURRENCY", "").strip()
    if concurrency:
        if not concurrency.isdigit():
            raise ConfigurationError(
                f"IAMWARDEN_ENFORCER_RESERVED_CONCURRENCY must be a whole number, got {concurrency!r}"
            )
        if int(concurrency) > 0:  # 0 is the template's "reserve none"
            reserved[env.get("IAMWARDEN_ENFORCER_FUNCTION") or DEFAULTS["IAMWARDEN_ENFORCER_FUNCTION"]] = int(
                concurrency
            )
    return OwnIdentity(
        home,
        MappingProxyType(home_roles),
        MappingProxyType(member_roles),
        # The stack's rules are generated with the code (declared.OWN_RULES), not passed in the environment: the
        # list alone took over half of Lambda's 4 KB for a function's variables. Deployed only (a home account).
        rules=_names(env, "IAMWARDEN_OWN_RULES") or (declared.OWN_RULES if home is not None else frozenset()),
        functions=_names(env, "IAMWARDEN_OWN_FUNCTIONS"),
        queues=_names(env, "IAMWARDEN_OWN_QUEUES"),
        tables=_names(env, "IAMWARDEN_OWN_TABLES"),
        settings_prefix=env.get("IAMWARDEN_SETTINGS_PREFIX") or None,
        member_rules=_names(env, "IAMWARDEN_MEMBER_RULES"),
        reserved_concurrency=MappingProxyType(reserved),
        stack_name=env.get("IAMWARDEN_STACK_NAME") or None,
        stack_set_name=env.get("IAMWARDEN_MEMBER_STACK_SET") or None,
        signed_url_functions=_names(env, "IAMWARDEN_OWN_SIGNED_URL_FUNCTIONS"),
        home_policies=_names(env, "IAMWARDEN_ENFORCER_POLICY_ARNS"),
        member_policies=_names(env, "IAMWARDEN_MEMBER_POLICY_NAMES"),
        central_bus=env.get("IAMWARDEN_CENTRAL_BUS_NAME") or None,
        organization_id=env.get("IAMWARDEN_ORGANIZATION_ID") or None,
        alert_topic=env.get("IAMWARDEN_ALERT_TOPIC_ARN") or None,
        alert_key=env.get("IAMWARDEN_ALERT_KEY_ARN") or None,
        alert_fallback_topic=env.get("IAMWARDEN_ALERT_FALLBACK_TOPIC_ARN") or None,
        alarms=_names(env, "IAMWARDEN_OWN_ALARMS"),
        secrets=frozenset(
            secret
            for secret in (
                env.get("IAMWARDEN_SLACK_WEBHOOK_SECRET"),
                env.get("IAMWARDEN_SLACK_BOT_SECRET"),
                env.get("IAMWARDEN_SLACK_SIGNING_SECRET"),
            )
            if secret
        ),
        function_roles=MappingProxyType(_function_roles(env.get("IAMWARDEN_OWN_FUNCTION_ROLES", ""), home_roles)),
        # Lambda sets AWS_REGION: the functions run where the stack is. Deployed only (a home account).
        home_region=(env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None) if home is not None else None,
        # What the remediation grants hold depends on it; anything but the template's two values is not known.
        user_remediation=(
            env["IAMWARDEN_USER_REMEDIATION"]
            if env.get("IAMWARDEN_USER_REMEDIATION") in ("quarantine", "delete")
            else None
        ),
        # Present (even empty: no operators) only where the template passes the parameter (the enforcer).
        operator_role_arns=(
            tuple(arn.strip() for arn in env["IAMWARDEN_OPERATOR_ROLE_ARNS"].split(",") if arn.strip())
            if "IAMWARDEN_OPERATOR_ROLE_ARNS" in env
            else None
        ),
    )


def _function_roles(text: str, home_roles: Mapping[str, str]) -> dict[str, str]:
    """``function=kind,...`` (``IAMWARDEN_OWN_FUNCTION_ROLES``): each own function and the kind of role it runs as."""
    found: dict[str, str] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        function, sep, kind = (value.strip() for value in item.partition("="))
        if not sep or not function or kind not in home_roles:
            raise ConfigurationError(
                f"IAMWARDEN_OWN_FUNCTION_ROLES: {item!r} is not function=kind of a role in IAMWARDEN_OWN_ROLE_ARNS"
            )
        found[function] = kind
    return found


def _names(env: Mapping[str, str], variable: str) -> frozenset[str]:
    return frozenset(name.strip() for name in env.get(variable, "").split(",") if name.strip())
