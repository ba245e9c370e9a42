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
from iamwarden.domain.catalog import Mode
from iamwarden.domain.findings import RemediationStep, Verdict
from iamwarden.domain.own import OwnIdentity
from iamwarden.domain.settings import load_settings, parse_settings
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


OPERATOR = f"arn:aws:sts::{ACCOUNT}:assumed-role/SecOps/alice"
INTRUDER = f"arn:aws:sts::{ACCOUNT}:assumed-role/developer/dev@example.com"
ENFORCER_SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/iamwarden-enforcer-us-east-1/iamwarden-enforcer"


class _History:
    """An SSM client stand-in: ``get_parameter_history`` answers from ``versions`` (each written by ``writers``' entry,
    else someone unknown) or raises ``error``."""

    def __init__(
        self,
        versions: dict[int, str] | None = None,
        error: Exception | None = None,
        writers: dict[int, str] | None = None,
    ) -> None:
        self.versions = versions or {}
        self.error = error
        self.writers = writers or {}

    def get_parameter_history(self, Name: str, **_: Any) -> dict[str, Any]:
        if self.error is not None:
            raise self.error
        return {
            "Parameters": [
                {"Name": Name, "Version": v, "Value": value, "LastModifiedUser": self.writers.get(v, "N/A")}
                for v, value in self.versions.items()
            ]
        }


class _Clients:
    """``RuleContext.live_clients``' answer: the account's clients, here only SSM."""

    def __init__(self, ssm: _History) -> None:
        self.ssm = ssm

    def client(self, service: str) -> _History:
        assert service == "ssm"
        return self.ssm


def _judged(relative: str, history: _History | None, settings: dict[str, Any] | None = None, version: int = 2) -> Any:
    """The tampering finding for a write of ``relative`` making ``version`` (the sample's writer: role/developer)."""
    event = _write(relative)
    event["detail"]["responseElements"]["version"] = version
    own = OWN._replace(
        home_roles={"enforcer": f"arn:aws:iam::{ACCOUNT}:role/iamwarden-enforcer-us-east-1"},
        function_roles={"iamwarden-enforcer": "enforcer"},
    )
    live: Any = None if history is None else (lambda account, region: _Clients(history))
    judgement = judge_event(event, load_settings(settings or {})._replace(own=own), live_clients=live)
    [finding] = judgement.findings
    return finding


@pytest.mark.parametrize(
    ("writers", "restored", "why"),
    [
        ({1: OPERATOR}, 1, "written by the operator"),
        ({1: ENFORCER_SESSION}, 1, "written by IAM Warden itself"),
        ({}, None, "did not exist before version 1"),  # v1 by someone unknown, the first: its default applies
    ],
)
def test_a_guard_setting_written_is_put_back_to_a_known_good_version_even_with_settings_guard_alert(
    writers: dict[int, str], restored: int | None, why: str
) -> None:
    history = _History({1: "arn:aws:iam::*:user/secops", 2: DEVELOPER}, writers=writers)
    operators = {"rules": {"iamwarden-tampered": {"operators": [f"arn:aws:iam::{ACCOUNT}:role/SecOps"]}}}

    finding = _judged("rules/iamwarden-tampered/operators", history, operators)

    [step] = finding.plan
    assert step.action == RestoreSetting.action
    assert step.parameters["restore_version"] == restored
    assert why in step.summary
    assert finding.needs_context == ()
    ordinary = judge_event(_write("rules/iam-user-created/mode"), load_settings({})._replace(own=OWN))
    assert [finding.plan for finding in ordinary.findings] == [()]


def test_two_quick_writes_the_first_is_never_put_back_as_if_it_were_good() -> None:
    """Audit s7 gap 3, P6: v3 is written by the intruder after their own v2; v2 is no known good value. v1 (an
    operator's) is, so it is put back, skipping v2."""
    history = _History(
        {1: "arn:aws:iam::*:role/BreakGlassAdmin", 2: DEVELOPER, 3: "x"},
        writers={1: OPERATOR, 2: INTRUDER, 3: INTRUDER},
    )
    operators = {"rules": {"iamwarden-tampered": {"operators": [OPERATOR]}}}

    [step] = _judged("break_glass_principals", history, operators, version=3).plan

    assert step.parameters["restore_version"] == 1


@pytest.mark.parametrize(
    ("history", "missing"),
    [
        (None, "offline"),
        (_History(error=RuntimeError("AccessDenied")), "AccessDenied"),
        # versions 1-2 aged out of the history (it keeps 100): nothing before is known good, nothing is guessed
        (_History({3: "a", 4: DEVELOPER}, writers={3: INTRUDER}), f"version 3 by {INTRUDER}"),
    ],
)
def test_without_a_known_good_version_a_guard_setting_is_alert_only_saying_what_is_missing(
    history: _History | None, missing: str
) -> None:
    finding = _judged("break_glass_principals", history, version=4)

    assert finding.plan == ()
    [needs] = finding.needs_context
    assert missing in needs
    assert "it is not put back without" in finding.reason


def _before(client: _History, version: int | None = 3, operators: str = DEVELOPER) -> Any:
    values = {"rules/iamwarden-tampered/operators": operators, "managed_accounts": ACCOUNT}
    source = SsmSettingsSource("/iamwarden", _Provider(values, client))
    return source.before({"/iamwarden/rules/iamwarden-tampered/operators": version}).settings


class _Provider:
    def __init__(self, values: dict[str, str], client: _History) -> None:
        self.values = values
        self.client = client

    def get_multiple(self, path: str, **_: Any) -> dict[str, str]:
        return dict(self.values)


def test_before_takes_the_newest_known_good_version_of_the_written_parameter() -> None:
    """v3 is judged by v2, which IAM Warden itself wrote (its restore), not by v1, whose writer is unknown."""
    own = OWN._replace(
        home_roles={"enforcer": f"arn:aws:iam::{ACCOUNT}:role/iamwarden-enforcer-us-east-1"},
        function_roles={"iamwarden-enforcer": "enforcer"},
    )
    history = _History(
        {1: "arn:aws:iam::*:user/first", 2: "arn:aws:iam::*:user/secops", 3: DEVELOPER}, writers={2: ENFORCER_SESSION}
    )
    values = {"rules/iamwarden-tampered/operators": DEVELOPER, "managed_accounts": ACCOUNT}
    source = SsmSettingsSource("/iamwarden", _Provider(values, history))

    settings = source.before({"/iamwarden/rules/iamwarden-tampered/operators": 3}, own).settings

    assert settings.rule("iamwarden-tampered").patterns("operators") == ("arn:aws:iam::*:user/secops",)
    assert settings.managed_accounts == frozenset({ACCOUNT})  # the parameters not written stay as they are


def test_before_never_takes_the_intruders_own_earlier_write() -> None:
    """Audit s7 gap 3, P7: the intruder wrote operators twice; the second is judged by the settings before the
    first (its default: no operators), not by the first, which would make the intruder an operator."""
    history = _History({1: DEVELOPER, 2: DEVELOPER}, writers={1: INTRUDER, 2: INTRUDER})

    assert _before(history, version=2).rule("iamwarden-tampered").patterns("operators") == ()


def test_a_write_to_operators_cannot_vouch_for_its_own_earlier_version() -> None:
    """Who is an operator is read without the written parameter: a version the intruder wrote while naming themself
    is not known good because the live (intruder's) operators name them."""
    history = _History({1: "arn:aws:iam::*:user/secops", 2: INTRUDER, 3: INTRUDER}, writers={1: OPERATOR, 2: INTRUDER})

    settings = _before(history, version=3, operators=INTRUDER)

    assert settings.rule("iamwarden-tampered").patterns("operators") == ()


def test_before_a_first_version_or_a_deletion_the_parameter_takes_its_default() -> None:
    assert _before(_History({1: DEVELOPER}), version=1).rule("iamwarden-tampered").patterns("operators") == ()
    assert _before(_History({1: DEVELOPER}), version=None).rule("iamwarden-tampered").patterns("operators") == ()


def test_an_unreadable_history_gives_the_default_never_the_written_value() -> None:
    settings = _before(_History(error=RuntimeError("AccessDenied")))

    assert settings.rule("iamwarden-tampered").patterns("operators") == ()


@pytest.mark.parametrize("broken", ["mode", "operators", "settings_guard"])
def test_a_broken_setting_of_the_tampering_rule_never_drops_it_to_alert(broken: str) -> None:
    """Audit s7 gap 3, P8: an invalid value under rules/iamwarden-tampered/ falls back to its default; the rule
    keeps remediating (any other rule with a broken setting drops to alert)."""
    value = {
        "mode": "garbage",
        "operators": "arn:aws:sts::111122223333:assumed-role/*/*",  # every session of every role
        "settings_guard": "x",
    }
    settings, problems = parse_settings(
        {f"rules/iamwarden-tampered/{broken}": value[broken], "rules/iam-user-created/mode": "nope"}
    )

    assert [problem.key for problem in problems] == [
        f"rules/iamwarden-tampered/{broken}",
        "rules/iam-user-created/mode",
    ]
    assert settings.rule("iamwarden-tampered").mode is Mode.REMEDIATE
    assert settings.rule("iam-user-created").mode is Mode.ALERT


@pytest.mark.parametrize(
    ("parameters", "why"),
    [
        ({}, "no known good version"),  # a plan recorded before steps named one: nothing is guessed
        ({"restore_version": 1}, "version 1 is no longer in its history"),
    ],
)
def test_a_restore_without_a_known_good_version_to_read_does_nothing(parameters: dict[str, Any], why: str) -> None:
    step = RemediationStep(RestoreSetting.action, WRITTEN, {"name": "/iamwarden/x", "version": 3, **parameters}, "")
    history = _History({2: "a", 3: "b"})

    before = RestoreSetting().capture(_Clients(history), step)  # type: ignore[arg-type]

    assert (before["restore_to"], before["why"]) == (None, why)
    done: list[str] = []
    RestoreSetting().apply(None, step, before, done)  # type: ignore[arg-type]
    assert done == []
    assert RestoreSetting().undo(None, step, before) == []  # type: ignore[arg-type]


# --- what a restore may do with the kill switch off (audit s7 gap 5) ---------------------------------------------


@pytest.mark.parametrize(
    ("name", "exempt"),
    [
        ("/iamwarden/enforcement", True),
        ("/iamwarden/breaker/max_remediations", True),
        ("/iamwarden/breaker/window_minutes", True),
        ("/iamwarden/rules/iamwarden-tampered/settings_guard", True),
        ("/iamwarden/rules/iamwarden-tampered/mode", True),
        # any other setting's restore is held by the switch, as every remediation
        ("/iamwarden/rules/iam-user-created/mode", False),
        ("/iamwarden/enforcement-old", False),
        ("/iamwarden/accounts/111122223333/enforcement", False),
        ("/other/enforcement", False),
        ("/iamwardenx/enforcement", False),
    ],
)
def test_only_the_switch_the_breaker_and_the_guards_own_settings_are_restored_past_the_switch(
    name: str, exempt: bool
) -> None:
    from iamwarden.domain.settings_guard import restores_the_guard

    assert restores_the_guard(OWN, name) is exempt
    assert restores_the_guard(OwnIdentity(home_account=ACCOUNT), name) is False, "no prefix known: nothing is"


def test_the_switch_and_the_breaker_limits_are_what_switches_remediation_off() -> None:
    from iamwarden.domain.settings_guard import switches_remediation_off

    assert switches_remediation_off(OWN, ["/iamwarden/rules/x/mode", "/iamwarden/enforcement"])
    assert switches_remediation_off(OWN, ["/iamwarden/breaker/max_remediations"])
    assert not switches_remediation_off(OWN, ["/iamwarden/rules/iamwarden-tampered/settings_guard"])
    assert not switches_remediation_off(OWN, [])


def test_with_operators_named_the_switch_set_off_is_restored_whatever_settings_guard_says() -> None:
    """Planned: the restore step (its version read from the history; offline alert-only, saying so)."""
    event = copy.deepcopy(load_event("tamper-setting-changed.json"))
    event["detail"]["requestParameters"]["name"] = "/iamwarden/enforcement"
    with_operators = load_settings({"rules": {"iamwarden-tampered": {"operators": ["arn:aws:iam::*:role/secops"]}}})

    [named] = judge_event(event, with_operators._replace(own=OWN)).findings
    [unnamed] = judge_event(event, load_settings({})._replace(own=OWN)).findings

    assert "a known good version of /iamwarden/enforcement" in " ".join(named.needs_context)
    assert unnamed.needs_context == ()
    assert unnamed.plan == ()
