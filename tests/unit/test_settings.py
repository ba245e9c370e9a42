"""The settings model: defaults, file and SSM forms, and errors that name the bad key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iamwarden.app.settings_file import load_settings_file
from iamwarden.domain.catalog import Mode
from iamwarden.domain.exceptions import SettingsError, SettingsProblem
from iamwarden.domain.own import OwnIdentity
from iamwarden.domain.settings import (
    Settings,
    load_settings,
    parse_settings,
    settings_from_parameters,
)
from iamwarden.guardrails.registry import RULES


def test_defaults_alert_on_every_rule_and_trust_nobody_else() -> None:
    settings = load_settings({})
    assert settings == Settings()
    # Every rule alerts, but tampering with IAM Warden itself, which nothing legitimate does outside its stack, and
    # reversing a remediation IAM Warden made (which only a rule in remediate makes) without iamwarden undo.
    expected = {
        **dict.fromkeys(RULES, Mode.ALERT),
        "iamwarden-tampered": Mode.REMEDIATE,
        "remediation-reversed": Mode.REMEDIATE,
    }
    assert {rule_id: settings.rule(rule_id).mode for rule_id in RULES} == expected
    assert settings.for_account("444455556666").rule("iamwarden-tampered").mode is Mode.REMEDIATE
    overridden = load_settings({"accounts": {"444455556666": {"rules": {"iam-user-created": {"mode": "off"}}}}})
    assert overridden.for_account("444455556666").rule("iamwarden-tampered").mode is Mode.REMEDIATE
    assert settings.trusted_accounts == frozenset()
    assert settings.organization_id is None
    assert settings.own == OwnIdentity()  # never from settings: the template's environment names the own roles
    assert settings.manages("123456789012")  # empty managed_accounts: every account whose events arrive
    assert settings.rule("iam-user-created").choice("remediation") == "quarantine"
    assert "service-role/AWSLambdaBasicExecutionRole" in settings.rule("managed-policy-attached").patterns(
        "allow_policies"
    )


def test_nested_file_keys_and_ssm_paths_give_the_same_settings() -> None:
    nested = {
        "trusted_accounts": ["444455556666"],
        "organization_id": "o-a1b2c3d4e5",
        "rules": {"iam-user-created": {"mode": "remediate", "allow_names": ["svc-*"], "remediation": "delete"}},
    }
    parameters = {
        "/iamwarden/trusted_accounts": "444455556666",
        "/iamwarden/organization_id": "o-a1b2c3d4e5",
        "/iamwarden/rules/iam-user-created/mode": "remediate",
        "/iamwarden/rules/iam-user-created/allow_names": '["svc-*"]',
        "/iamwarden/rules/iam-user-created/remediation": "delete",
        "/other-app/trusted_accounts": "999988887777",  # another prefix is not ours
    }
    from_file = load_settings(nested)
    from_ssm, problems = settings_from_parameters(parameters, "/iamwarden")
    assert problems == []
    assert from_ssm == from_file
    rule = from_file.rule("iam-user-created")
    assert rule.mode is Mode.REMEDIATE
    assert rule.patterns("allow_names") == ("svc-*",)
    assert rule.choice("remediation") == "delete"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("111122223333,444455556666", ("111122223333", "444455556666")),  # SSM StringList
        (" 111122223333 , 444455556666 ", ("111122223333", "444455556666")),
        ('["111122223333"]', ("111122223333",)),  # JSON list in a String parameter
        (["111122223333"], ("111122223333",)),
        ([111122223333], ("111122223333",)),  # YAML reads unquoted ids as numbers
        ("", ()),
    ],
)
def test_account_lists_accept_every_form_operators_write(raw: object, expected: tuple[str, ...]) -> None:
    assert load_settings({"trusted_accounts": raw}).trusted_accounts == frozenset(expected)


@pytest.mark.parametrize(
    ("values", "key", "message"),
    [
        ({"rules": {"iam-user-created": {"mode": "enforce"}}}, "rules/iam-user-created/mode", "off, alert, remediate"),
        ({"trusted_accounts": ["1234"]}, "trusted_accounts", "12-digit"),
        ({"organization_id": "org-123"}, "organization_id", "o-a1b2c3d4e5"),
        ({"rules": {"iam-user-created": {"allow_name": ["x"]}}}, "rules/iam-user-created/allow_name", "allow_names"),
        ({"rules": {"iam-user-create": {"mode": "off"}}}, "rules/iam-user-create/mode", "iam-user-created"),
        ({"trusted_acounts": []}, "trusted_acounts", "trusted_accounts"),
        ({"rules": {"iam-user-created": {"remediation": "nuke"}}}, "rules/iam-user-created/remediation", "quarantine"),
        ({"own_roles": ["iamwarden-*"]}, "own_roles", "unknown setting"),
        ({"break_glass_principals": [True]}, "break_glass_principals", "list of strings"),
        ({"trusted_accounts": "[not json"}, "trusted_accounts", "JSON list"),
    ],
)
def test_invalid_settings_name_the_bad_key(values: dict[str, object], key: str, message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(values)
    [problem] = caught.value.problems
    assert problem.key == key
    assert message in problem.message
    assert key in str(caught.value)


def test_an_invalid_rule_setting_falls_back_to_alert_without_touching_other_rules() -> None:
    settings, problems = parse_settings(
        {
            "rules": {
                "iam-user-created": {"mode": "remediate", "remediation": "nuke"},
                "managed-policy-attached": {"mode": "remediate"},
                "s3-bucket-policy-public": {"mode": "off"},
            }
        }
    )
    assert [p.key for p in problems] == ["rules/iam-user-created/remediation"]
    assert settings.rule("iam-user-created").mode is Mode.ALERT
    assert settings.rule("iam-user-created").choice("remediation") == "quarantine"
    assert settings.rule("managed-policy-attached").mode is Mode.REMEDIATE
    assert settings.rule("s3-bucket-policy-public").mode is Mode.OFF


def test_an_invalid_global_setting_falls_back_to_its_default() -> None:
    settings, problems = parse_settings({"break_glass_principals": 5, "trusted_accounts": ["444455556666"]})
    assert problems == [SettingsProblem("break_glass_principals", "must be a list of strings, got 5")]
    assert settings.break_glass_principals == ()
    assert settings.trusted_accounts == {"444455556666"}


def test_break_glass_matches_arns() -> None:
    settings = load_settings({"break_glass_principals": ["arn:aws:iam::*:role/BreakGlassAdmin"]})
    assert settings.is_break_glass(None, "arn:aws:iam::111122223333:role/BreakGlassAdmin")
    assert settings.is_break_glass("arn:aws:iam::111122223333:role/breakglassadmin") is None  # ARNs are case-sensitive


def test_managed_and_trusted_accounts_form_the_trust_boundary() -> None:
    settings = load_settings({"trusted_accounts": ["444455556666"], "managed_accounts": ["111122223333"]})
    boundary = settings.boundary("555566667777")
    assert boundary.trusts_account("555566667777")
    assert boundary.trusts_account("444455556666")
    assert boundary.trusts_account("111122223333")
    assert not boundary.trusts_account("999988887777")
    assert not settings.manages("555566667777")


def test_settings_files_in_yaml_and_json(tmp_path: Path) -> None:
    yaml_file = tmp_path / "s.yaml"
    yaml_file.write_text("organization_id: o-a1b2c3d4e5\nrules:\n  iam-user-created:\n    mode: 'off'\n")
    json_file = tmp_path / "s.json"
    json_file.write_text(
        json.dumps({"organization_id": "o-a1b2c3d4e5", "rules": {"iam-user-created": {"mode": "off"}}})
    )
    assert load_settings_file(yaml_file) == load_settings_file(json_file)
    assert load_settings_file(yaml_file).rule("iam-user-created").mode is Mode.OFF
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    assert load_settings_file(empty) == Settings()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.yaml", "rules: [unclosed", "not valid YAML"),
        ("bad.json", "{", "not valid JSON"),
        ("list.yaml", "- a\n- b\n", "mapping"),
    ],
)
def test_unreadable_settings_files_are_settings_errors(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(SettingsError, match=message):
        load_settings_file(path)


def test_a_missing_settings_file_is_a_settings_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="cannot read settings file"):
        load_settings_file(tmp_path / "nope.yaml")


def test_yaml_reads_an_unquoted_off_as_false_and_that_still_means_off(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("rules:\n  iam-user-created:\n    mode: off\n")
    assert load_settings_file(path).rule("iam-user-created").mode is Mode.OFF


@pytest.mark.parametrize(
    ("values", "key", "message"),
    [
        ({"trusted_networks": ["vpce-xyz"]}, "trusted_networks", "VPC or VPC endpoint ids"),
        (
            {"rules": {"iam-user-created": {"mode": {"deep": "x"}}}},
            "rules/iam-user-created/mode/deep",
            "one level deep",
        ),
        ({"rules": "x"}, "rules", "must map rule ids"),
    ],
)
def test_more_invalid_shapes_name_the_key(values: dict[str, object], key: str, message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(values)
    assert [p.key for p in caught.value.problems] == [key]
    assert message in caught.value.problems[0].message


def test_a_settings_file_that_is_not_utf8_is_a_settings_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("organization_id: o-\xe9\n".encode("latin-1"))
    with pytest.raises(SettingsError, match="not UTF-8"):
        load_settings_file(path)


def test_a_yaml_value_error_is_reported_as_yaml(tmp_path: Path) -> None:
    path = tmp_path / "date.yaml"
    path.write_text("organization_id: 2020-13-45\n")
    with pytest.raises(SettingsError, match="not valid YAML"):
        load_settings_file(path)


def test_the_withheld_user_deletion_names_the_iam_user_rules_option_and_its_choices() -> None:
    """``app.config`` names the refusal itself (the wiring must not import ``guardrails.iam_user`` at cold start)."""
    from iamwarden.app.config import USER_DELETION_WITHHELD
    from iamwarden.guardrails.iam_user import IAM_USER_CREATED

    option = IAM_USER_CREATED.options[USER_DELETION_WITHHELD.option]
    assert USER_DELETION_WITHHELD.rule_id == IAM_USER_CREATED.id
    assert {USER_DELETION_WITHHELD.value, USER_DELETION_WITHHELD.fallback} <= set(option.choices)


def test_a_refused_value_falls_back_and_is_reported_globally_and_per_account() -> None:
    from iamwarden.app.config import USER_DELETION_WITHHELD
    from iamwarden.domain.settings import parse_settings

    values = {
        "rules/iam-user-created/remediation": "delete",
        "accounts/444455556666/rules/iam-user-created/remediation": "delete",
    }
    settings, problems = parse_settings(values, refused=(USER_DELETION_WITHHELD,))
    assert settings.rule("iam-user-created").options["remediation"] == "quarantine"
    assert settings.for_account("444455556666").rule("iam-user-created").options["remediation"] == "quarantine"
    assert [problem.key for problem in problems] == [
        "rules/iam-user-created/remediation",
        "accounts/444455556666/rules/iam-user-created/remediation",
    ]
    assert "UserRemediation=delete" in problems[0].message

    granted, none = parse_settings(values)
    assert granted.rule("iam-user-created").options["remediation"] == "delete"
    assert none == []
