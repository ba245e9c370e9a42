"""An AWS Organization from one security account: per-account settings, and events that lie about where to act."""

from __future__ import annotations

import json
from typing import Any

import pytest

from iamwarden.domain.catalog import Mode
from iamwarden.domain.events import parse_event
from iamwarden.domain.findings import Verdict
from iamwarden.domain.settings import AccountSettings, Settings, load_settings, parse_settings, settings_from_parameters
from iamwarden.guardrails.engine import account_of_arn, foreign_account_claim, judge_event
from iamwarden.guardrails.registry import RULES
from tests.conftest import load_event

HOME = "111122223333"
MEMBER = "444455556666"
OTHER = "777788889999"


def _in_account(sample: str, account: str) -> dict[str, Any]:
    """A sample moved whole into ``account``: envelope, record, caller and resources all agree."""
    text = json.dumps(load_event(sample))
    assert HOME in text
    moved: dict[str, Any] = json.loads(text.replace(HOME, account))
    return moved


# --- per-account settings -----------------------------------------------------------------------


def test_an_account_override_applies_to_that_account_only() -> None:
    settings = load_settings(
        {
            "rules": {"iam-user-created": {"mode": "alert", "allow_names": ["svc-*"]}},
            "accounts": {MEMBER: {"rules": {"iam-user-created": {"mode": "remediate"}}}},
        }
    )
    member = settings.for_account(MEMBER).rule("iam-user-created")
    assert member.mode is Mode.REMEDIATE
    assert member.patterns("allow_names") == ("svc-*",), "an override replaces one setting and inherits the rest"
    assert settings.for_account(HOME).rule("iam-user-created").mode is Mode.ALERT
    assert settings.rule("iam-user-created").mode is Mode.ALERT


def test_one_parameter_puts_an_account_in_alert_only() -> None:
    parameters = {f"/iamwarden/rules/{rule_id}/mode": "remediate" for rule_id in RULES}
    parameters[f"/iamwarden/accounts/{MEMBER}/mode"] = "alert"
    settings, problems = settings_from_parameters(parameters, "/iamwarden")
    assert problems == []
    assert {settings.for_account(MEMBER).rule(r).mode for r in RULES} == {Mode.ALERT}
    assert {settings.for_account(HOME).rule(r).mode for r in RULES} == {Mode.REMEDIATE}


def test_an_account_mode_caps_its_own_overrides_too() -> None:
    settings = load_settings(
        {"accounts": {MEMBER: {"mode": "off", "rules": {"managed-policy-attached": {"mode": "remediate"}}}}}
    )
    assert {settings.for_account(MEMBER).rule(r).mode for r in RULES} == {Mode.OFF}


def test_no_account_settings_keep_the_old_model() -> None:
    assert load_settings({}) == Settings()
    assert Settings().for_account(MEMBER) == Settings()
    settings = load_settings({"accounts": {MEMBER: {"mode": "remediate"}}})
    assert settings.accounts == {MEMBER: AccountSettings(Mode.REMEDIATE, {})}
    assert settings.for_account(MEMBER).rules == dict(Settings().rules)


@pytest.mark.parametrize(
    ("values", "key", "message"),
    [
        ({"accounts": {"12345": {"mode": "alert"}}}, "accounts/12345/mode", "12-digit account id"),
        ({"accounts": {MEMBER: {"mode": "enforce"}}}, f"accounts/{MEMBER}/mode", "must be one of off, alert"),
        ({"accounts": {MEMBER: {"trusted_accounts": "1"}}}, f"accounts/{MEMBER}/trusted_accounts", "mode and rules"),
        (
            {"accounts": {MEMBER: {"rules": {"iam-user-created": {"mdoe": "alert"}}}}},
            f"accounts/{MEMBER}/rules/iam-user-created/mdoe",
            "did you mean 'mode'",
        ),
        (
            {"accounts": {MEMBER: {"rules": {"no-such-rule": {"mode": "alert"}}}}},
            f"accounts/{MEMBER}/rules/no-such-rule/mode",
            "unknown rule",
        ),
    ],
)
def test_invalid_account_settings_name_the_key(values: dict[str, Any], key: str, message: str) -> None:
    _, problems = parse_settings(values)
    assert [problem.key for problem in problems] == [key]
    assert message in problems[0].message


def test_an_invalid_account_setting_falls_back_to_alert_in_that_account_only() -> None:
    settings, problems = parse_settings(
        {
            "rules": {"iam-user-created": {"mode": "remediate"}},
            "accounts": {
                MEMBER: {"rules": {"iam-user-created": {"remediation": "shred"}}},
                OTHER: {"mode": "enforce"},
            },
        }
    )
    assert len(problems) == 2
    assert settings.for_account(MEMBER).rule("iam-user-created").mode is Mode.ALERT
    assert {settings.for_account(OTHER).rule(r).mode for r in RULES} <= {Mode.ALERT}
    assert settings.for_account(HOME).rule("iam-user-created").mode is Mode.REMEDIATE


def test_the_engine_judges_an_event_by_its_accounts_settings() -> None:
    settings = load_settings(
        {"rules": {"iam-user-created": {"mode": "remediate"}}, "accounts": {MEMBER: {"mode": "alert"}}}
    )
    [home] = judge_event(load_event("create-user-backdoor-cli.json"), settings).findings
    [member] = judge_event(_in_account("create-user-backdoor-cli.json", MEMBER), settings).findings
    assert home.mode is Mode.REMEDIATE
    assert member.mode is Mode.ALERT
    assert member.account == MEMBER
    assert member.resource_arn == f"arn:aws:iam::{MEMBER}:user/backdoor-admin"


# --- events that name another account -------------------------------------------------------------


def test_the_forged_sample_is_rejected_with_the_reason() -> None:
    judgement = judge_event(load_event("create-user-forged-cross-account.json"), Settings())
    assert judgement.verdict is Verdict.INVALID
    assert judgement.rejected is True
    assert judgement.findings == ()
    assert f"claims account {MEMBER}" in judgement.reason
    assert f"arn:aws:iam::{HOME}:user/backdoor-admin belongs to {HOME}" in judgement.reason


def test_a_recipient_account_that_differs_is_rejected() -> None:
    event = load_event("attach-admin-to-role.json")
    event["account"] = MEMBER  # the envelope claims the member; the record was delivered to the home account
    judgement = judge_event(event, Settings())
    assert judgement.rejected
    assert f"detail.recipientAccountId is {HOME}" in judgement.reason


def test_a_bucket_owned_by_another_account_is_rejected() -> None:
    event = _in_account("bucket-policy-public-read.json", MEMBER)
    [bucket] = [r for r in event["detail"]["resources"] if r.get("type") == "AWS::S3::Bucket"]
    bucket["accountId"] = HOME
    judgement = judge_event(event, Settings())
    assert judgement.rejected
    assert f"belongs to {HOME}" in judgement.reason


def test_a_contradicting_record_is_rejected_whatever_the_settings() -> None:
    """Envelope against record is checked before anything else: it says something about the bus itself."""
    settings = load_settings({"managed_accounts": [HOME], "accounts": {MEMBER: {"mode": "off"}}})
    event = load_event("create-user-backdoor-cli.json")
    event["account"] = MEMBER
    assert judge_event(event, settings).rejected


def test_a_foreign_resource_in_an_unmanaged_account_is_only_ignored() -> None:
    """The resource's account is known only once a rule has read the record; an unmanaged account never gets
    that far, and nothing is done there either way."""
    settings = load_settings({"managed_accounts": [HOME]})
    judgement = judge_event(load_event("create-user-forged-cross-account.json"), settings)
    assert judgement.verdict is Verdict.IGNORED
    assert judgement.findings == ()


@pytest.mark.parametrize(
    "sample",
    ["create-user-backdoor-cli.json", "attach-admin-to-role.json", "bucket-policy-public-and-vendor.json"],
)
def test_a_consistent_member_event_is_judged_normally(sample: str) -> None:
    judgement = judge_event(_in_account(sample, MEMBER), Settings())
    assert judgement.verdict is Verdict.VIOLATION
    assert not judgement.rejected
    assert foreign_account_claim(parse_event(_in_account(sample, MEMBER))) is None


def test_account_of_arn() -> None:
    assert account_of_arn(f"arn:aws:iam::{MEMBER}:role/path/x") == MEMBER
    assert account_of_arn("arn:aws:s3:::acme-invoices") is None
    assert account_of_arn("not-an-arn") is None
