"""The kill switch and the breaker's limits, set by someone other than an operator, are put back (audit s7 gap 5).

With enforcement ``off`` the enforcer remediates nothing, so the restore of the very write that switched it off
was held by the switch: one critical alert left, then every rule stayed alert-only. Now a restore of the switch,
of the breaker's limits and of ``iamwarden-tampered``'s own settings is exempt from the switch and the breaker
(``EnforcerService._restores_the_guard``), and with ``operators`` named they are put back whatever
``settings_guard`` says (an intruder sets it to ``alert`` in the same breath). An operator's ``off`` and the
breaker's own ``off`` stay: they are no finding. Events: the ``tamper-setting-changed.json`` sample (CloudTrail's
``PutParameter``), with the version moto answered.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from iamwarden.app.service import EnforcerService
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier
from tests.functional.guardrail_cases import heartbeat_read_attachments

SWITCH = "/iamwarden/enforcement"
RULE = "iamwarden-tampered"
OPERATOR_ROLE = f"arn:aws:iam::{HOME_ACCOUNT}:role/secops"
INTRUDER = f"arn:aws:sts::{HOME_ACCOUNT}:assumed-role/developer/dev@example.com"  # the sample's actor


def _as(event: dict[str, Any], role_arn: str, session: str) -> dict[str, Any]:
    """``event`` made by session ``session`` of ``role_arn`` (the sample's shape: an assumed role)."""
    role = role_arn.rsplit("/", 1)[-1]
    identity = event["detail"]["userIdentity"]
    identity["arn"] = f"arn:aws:sts::{HOME_ACCOUNT}:assumed-role/{role}/{session}"
    identity["principalId"] = f"AROA2KPU3GRUGI7A2PA3U:{session}"
    identity["sessionContext"]["sessionIssuer"].update(arn=role_arn, userName=role)
    return event


def _write(
    account: Account, relative: str, value: str, event_id: str, *, by: str | None = None, session: str = "secops"
) -> dict[str, Any]:
    """Write setting ``relative`` for real, by session ``session`` of ``by`` (a role ARN; the sample's developer
    when None), and the event."""
    writer = f"arn:aws:sts::{HOME_ACCOUNT}:assumed-role/{by.rsplit('/', 1)[-1]}/{session}" if by else INTRUDER
    version = account.set(relative, value, writer=writer)
    event = copy.deepcopy(load_event("tamper-setting-changed.json"))
    event["detail"]["requestParameters"]["name"] = f"/iamwarden/{relative}"
    event["detail"]["responseElements"]["version"] = version
    event["detail"]["eventID"] = event["id"] = event_id
    return _as(event, by, session) if by else event


def _switch(account: Account) -> str:
    return str(account.ssm.get_parameter(Name=SWITCH)["Parameter"]["Value"])


def _value(account: Account, relative: str) -> str:
    return str(account.ssm.get_parameter(Name=f"/iamwarden/{relative}")["Parameter"]["Value"])


def _tampered(result: dict[str, Any]) -> dict[str, Any]:
    [finding] = [finding for finding in result["findings"] if finding["rule"] == RULE]
    return dict(finding)


def _next_violation_outcome(account: Account, enforcer: EnforcerService) -> str:
    """What the enforcer does with the next violation in remediate mode (a new admin attachment)."""
    account.set("rules/managed-policy-attached/mode", "remediate", writer=OPERATOR_ROLE)
    account.iam.create_role(RoleName="app", AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[]}')
    heartbeat_read_attachments(account, "2026-11-01T00:00:00Z")  # before the attach: it is known to add it
    account.iam.attach_role_policy(RoleName="app", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    event = copy.deepcopy(load_event("attach-admin-to-role.json"))
    event["detail"]["requestParameters"]["roleName"] = "app"
    [finding] = [f for f in enforcer.handle(event)["findings"] if f["rule"] == "managed-policy-attached"]
    return str(finding["outcome"])


@pytest.fixture
def operators(account: Account) -> Account:
    account.set(f"rules/{RULE}/operators", OPERATOR_ROLE, writer=OPERATOR_ROLE)
    return account


def test_the_switch_set_off_by_an_intruder_is_switched_back_on_and_alerted_critical(
    operators: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account = operators
    assert _value(account, f"rules/{RULE}/settings_guard") == "alert", "even with the default settings_guard"

    finding = _tampered(enforcer.handle(_write(account, "enforcement", "off", "k-1")))

    assert finding["outcome"] == "remediated"
    assert _switch(account) == "on"
    [alerted] = [n.finding for n in notifier.sent if n.finding is not None and n.finding.rule_id == RULE]
    assert alerted.severity.value == "critical"
    assert _next_violation_outcome(account, enforcer) == "remediated", "remediation goes on"


def test_without_operators_the_switch_follows_settings_guard(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """With nobody named an operator every write is someone else's: a switch put back always could not be used."""
    assert _tampered(enforcer.handle(_write(account, "enforcement", "off", "k-2")))["outcome"] == "alerted"
    assert _switch(account) == "off"

    account.set("enforcement", "on", writer=OPERATOR_ROLE)
    account.set(f"rules/{RULE}/settings_guard", "restore", writer=OPERATOR_ROLE)
    assert _tampered(enforcer.handle(_write(account, "enforcement", "off", "k-3")))["outcome"] == "remediated"
    assert _switch(account) == "on"


def test_an_operators_off_stays_off_and_nothing_is_remediated_afterwards(
    operators: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account = operators

    result = enforcer.handle(_write(account, "enforcement", "off", "k-4", by=OPERATOR_ROLE))

    assert [f for f in result["findings"] if f["rule"] == RULE] == []
    assert _switch(account) == "off"
    assert _next_violation_outcome(account, enforcer) == "alerted", "held by the operator's switch"
    assert account.iam.list_attached_role_policies(RoleName="app")["AttachedPolicies"], "nothing changed"


def test_the_breakers_own_off_is_respected(
    operators: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """The breaker switches enforcement off as the enforcer's own role: that write is IAM Warden's, no finding."""
    account = operators
    enforcer_role = enforcer.own.home_roles["enforcer"]
    [function] = enforcer.own.functions_of("enforcer")  # Lambda names the session after the function

    result = enforcer.handle(_write(account, "enforcement", "off", "k-5", by=enforcer_role, session=function))

    assert [f for f in result["findings"] if f["rule"] == RULE] == []
    assert _switch(account) == "off"
    assert _next_violation_outcome(account, enforcer) == "alerted"


@pytest.mark.parametrize("order", ["guard-first", "switch-first"])
def test_settings_guard_set_to_alert_in_the_same_breath_does_not_keep_the_switch_off(
    operators: Account, enforcer: EnforcerService, notifier: RecordingNotifier, order: str
) -> None:
    """Two writes in a row (settings_guard alert, enforcement off), judged in either order: both are put back.
    The first judged restore runs with the switch already off (both writes landed before either is judged)."""
    account = operators
    account.set(f"rules/{RULE}/settings_guard", "restore", writer=OPERATOR_ROLE)
    guard = _write(account, f"rules/{RULE}/settings_guard", "alert", "k-6")
    switch = _write(account, "enforcement", "off", "k-7")
    events = [guard, switch] if order == "guard-first" else [switch, guard]

    outcomes = [_tampered(enforcer.handle(event))["outcome"] for event in events]

    assert outcomes == ["remediated", "remediated"]
    assert _switch(account) == "on"
    assert _value(account, f"rules/{RULE}/settings_guard") == "restore"


def test_a_breaker_limit_of_zero_set_by_an_intruder_is_put_back_without_tripping_the_breaker(
    operators: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account = operators
    account.set("breaker/max_remediations", "20", writer=OPERATOR_ROLE)

    finding = _tampered(enforcer.handle(_write(account, "breaker/max_remediations", "0", "k-8")))

    assert finding["outcome"] == "remediated"
    assert _value(account, "breaker/max_remediations") == "20"
    assert _switch(account) == "on", "the restore itself does not count against the limit"


def test_a_restore_of_any_other_setting_is_still_held_by_the_switch(
    operators: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account = operators
    account.set(f"rules/{RULE}/settings_guard", "restore", writer=OPERATOR_ROLE)
    account.set("enforcement", "off", writer=OPERATOR_ROLE)

    finding = _tampered(enforcer.handle(_write(account, "rules/iam-user-created/mode", "off", "k-9")))

    assert finding["outcome"] == "alerted"
    assert _value(account, "rules/iam-user-created/mode") == "off"
