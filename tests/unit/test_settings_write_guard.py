"""A write to IAM Warden's own settings never approves itself (audit of issue 15, gap 1).

Offline the settings given are those from before the write; even so, only ``operators`` exempts a settings write:
``iamwarden-tampered``'s mode ``off``, its allowlists, ``managed_accounts``, break-glass and per-account caps are
not honoured for it. The enforcer reads the written parameters' previous versions (``SsmSettingsSource.before``).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from iamwarden.adapters.ssm_settings import SsmSettingsSource
from iamwarden.domain.findings import Verdict
from iamwarden.domain.own import OwnIdentity
from iamwarden.domain.settings import load_settings
from iamwarden.guardrails.engine import judge_event
from iamwarden.guardrails.tampering import RestoreSetting
from tests.conftest import load_event

ACCOUNT = "111122223333"
DEVELOPER = f"arn:aws:iam::{ACCOUNT}:role/developer"
WRITTEN = f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/iamwarden/rules/iamwarden-tampered/allow_resources"
OWN = OwnIdentity(home_account=ACCOUNT, settings_prefix="/iamwarden")


def _write(relative: str) -> dict[str, Any]:
    event = copy.deepcopy(load_event("tamper-setting-changed.json"))
    event["detail"]["requestParameters"]["name"] = f"/iamwarden/{relative}"
    return event


@pytest.mark.parametrize(
    ("relative", "settings"),
    [
        ("rules/iamwarden-tampered/mode", {"rules": {"iamwarden-tampered": {"mode": "off"}}}),
        ("rules/iamwarden-tampered/allow_actors", {"rules": {"iamwarden-tampered": {"allow_actors": [DEVELOPER]}}}),
        ("rules/iamwarden-tampered/allow_resources", {"rules": {"iamwarden-tampered": {"allow_resources": [WRITTEN]}}}),
        ("managed_accounts", {"managed_accounts": ["999999999999"]}),
        ("break_glass_principals", {"break_glass_principals": [DEVELOPER]}),
        ("accounts/111122223333/mode", {"accounts": {ACCOUNT: {"mode": "off"}}}),
    ],
)
def test_nothing_but_operators_exempts_a_settings_write(relative: str, settings: dict[str, Any]) -> None:
    judgement = judge_event(_write(relative), load_settings(settings)._replace(own=OWN))

    assert judgement.verdict is Verdict.VIOLATION, judgement.reason
    [finding] = judgement.findings
    assert finding.rule_id == "iamwarden-tampered"
    assert not finding.alert_only


def test_an_operator_as_of_before_is_exempt() -> None:
    settings = load_settings({"rules": {"iamwarden-tampered": {"operators": [DEVELOPER]}}})._replace(own=OWN)

    judgement = judge_event(_write("rules/iamwarden-tampered/operators"), settings)

    assert judgement.verdict is Verdict.COMPLIANT
    assert "is an operator" in judgement.reason


def test_other_events_keep_their_exemptions() -> None:
    """The strict reading is only for settings writes: the tampering rule off still silences its other events."""
    settings = load_settings({"rules": {"iamwarden-tampered": {"mode": "off"}}})._replace(
        own=OWN._replace(functions=frozenset({"iamwarden-enforcer"}))
    )

    judgement = judge_event(load_event("tamper-enforcer-code.json"), settings)

    assert judgement.verdict is Verdict.IGNORED


def test_a_guard_setting_written_is_put_back_even_with_settings_guard_alert() -> None:
    judgement = judge_event(_write("rules/iamwarden-tampered/operators"), load_settings({})._replace(own=OWN))
    [finding] = judgement.findings
    assert [step.action for step in finding.plan] == [RestoreSetting.action]

    ordinary = judge_event(_write("rules/iam-user-created/mode"), load_settings({})._replace(own=OWN))
    assert [finding.plan for finding in ordinary.findings] == [()]


class _History:
    """An SSM client stand-in: ``get_parameter_history`` answers from ``versions`` or raises ``error``."""

    def __init__(self, versions: dict[int, str] | None = None, error: Exception | None = None) -> None:
        self.versions = versions or {}
        self.error = error

    def get_parameter_history(self, Name: str, **_: Any) -> dict[str, Any]:
        if self.error is not None:
            raise self.error
        return {"Parameters": [{"Name": Name, "Version": v, "Value": value} for v, value in self.versions.items()]}


class _Provider:
    def __init__(self, values: dict[str, str], client: _History) -> None:
        self.values = values
        self.client = client

    def get_multiple(self, path: str, **_: Any) -> dict[str, str]:
        return dict(self.values)


def _before(client: _History, version: int | None = 3) -> Any:
    values = {"rules/iamwarden-tampered/operators": DEVELOPER, "managed_accounts": ACCOUNT}
    source = SsmSettingsSource("/iamwarden", _Provider(values, client))
    return source.before({"/iamwarden/rules/iamwarden-tampered/operators": version}).settings


def test_before_takes_the_previous_version_of_the_written_parameter() -> None:
    settings = _before(_History({1: "arn:aws:iam::*:user/first", 2: "arn:aws:iam::*:user/secops", 3: DEVELOPER}))

    assert settings.rule("iamwarden-tampered").patterns("operators") == ("arn:aws:iam::*:user/secops",)
    assert settings.managed_accounts == frozenset({ACCOUNT})  # the parameters not written stay as they are


def test_before_a_first_version_or_a_deletion_the_parameter_takes_its_default() -> None:
    assert _before(_History({1: DEVELOPER}), version=1).rule("iamwarden-tampered").patterns("operators") == ()
    assert _before(_History({1: DEVELOPER}), version=None).rule("iamwarden-tampered").patterns("operators") == ()


def test_an_unreadable_history_gives_the_default_never_the_written_value() -> None:
    settings = _before(_History(error=RuntimeError("AccessDenied")))

    assert settings.rule("iamwarden-tampered").patterns("operators") == ()
