"""prune-exemption-granted remediated in moto: the exempt tag a non-operator set on a new role (CreateRole) is removed
(that key only) while the role holds the value the event set; undo tags the role again; a later value, or a role
gone, is left alone. A TagRole's tag is never removed: the record does not say what the role held before (F1)."""

from __future__ import annotations

import copy
from types import SimpleNamespace
from typing import Any

import pytest

from iamwarden.app.service import EnforcerService
from iamwarden.domain.exceptions import UndoError
from iamwarden.domain.findings import Outcome, RemediationStep
from iamwarden.guardrails.prune_exemption import RemoveRoleTag
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier

OPERATOR = f"arn:aws:iam::{HOME_ACCOUNT}:user/secops"
SAMPLE = "prune-exemption-tagrole.json"
ROLE = "app-backend"
TAG = "iamwarden:prune-exempt-until"
TRUST = '{"Version": "2012-10-17", "Statement": []}'


def _tags(account: Account) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in account.iam.list_role_tags(RoleName=ROLE)["Tags"]}


def _tagged(account: Account, key: str = TAG, value: str = "2027-06-30") -> dict[str, Any]:
    """The role as a CreateRole with the exempt tag (``key``/``value``) and team=payments left it, remediate mode on."""
    tags = [{"Key": key, "Value": value}, {"Key": "team", "Value": "payments"}]
    created = account.iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=TRUST, Tags=tags)["Role"]
    account.set("rules/prune-exemption-granted/mode", "remediate")
    event = copy.deepcopy(load_event(SAMPLE))
    event["detail"]["eventName"] = "CreateRole"
    event["detail"]["requestParameters"] = {
        "roleName": ROLE,
        "assumeRolePolicyDocument": TRUST,
        "tags": [{"key": t["Key"], "value": t["Value"]} for t in tags],
    }
    # CreateRole's response names the role it made (events/prune-exemption-createrole.json).
    event["detail"]["responseElements"] = {
        "role": {"roleName": ROLE, "roleId": created["RoleId"], "arn": created["Arn"], "path": "/"}
    }
    return event


def _only(result: dict[str, Any]) -> dict[str, Any]:
    [finding] = result["findings"]
    assert finding["rule"] == "prune-exemption-granted"
    return dict(finding)


def test_the_exempt_tag_is_removed_and_undo_puts_it_back(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    finding = _only(enforcer.handle(_tagged(account)))

    assert finding["outcome"] == Outcome.REMEDIATED
    assert finding["done"] == [f"removed tag {TAG}=2027-06-30 from role {ROLE}"]
    assert _tags(account) == {"team": "payments"}
    [alert] = notifier.sent
    assert alert.finding is not None
    assert "until 2027-06-30" in alert.finding.reason
    undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert list(undo.restored) == [f"tagged role {ROLE} with {TAG}=2027-06-30 again"]
    assert _tags(account) == {TAG: "2027-06-30", "team": "payments"}


def test_a_tag_role_is_alerted_but_never_removed_even_in_remediate_mode(
    account: Account, enforcer: EnforcerService
) -> None:
    """F1: an operator set 2027-06-30 earlier; a CI role re-applies it: removing it would end the operator's
    exemption, and the TagRole record cannot tell this from a new tag."""
    account.iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=TRUST, Tags=[{"Key": TAG, "Value": "2027-06-30"}])
    account.set("rules/prune-exemption-granted/mode", "remediate")

    finding = _only(enforcer.handle(copy.deepcopy(load_event(SAMPLE))))

    assert finding["outcome"] != Outcome.REMEDIATED
    assert finding.get("done", []) == []
    assert _tags(account)[TAG] == "2027-06-30"


def test_a_key_the_role_holds_in_another_case_is_removed_as_the_role_holds_it(account: Account) -> None:
    """IAM keys are unique case-insensitively: the step's key in one case finds the role's key in another."""
    account.iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=TRUST, Tags=[{"Key": TAG, "Value": "2027-06-30"}])
    action = RemoveRoleTag()
    step = RemediationStep(
        RemoveRoleTag.action, "arn", {"role_name": ROLE, "key": TAG.upper(), "value": "2027-06-30"}, "remove"
    )
    aws: Any = SimpleNamespace(iam=account.iam)
    before = action.capture(aws, step)
    done: list[str] = []

    action.apply(SimpleNamespace(aws=aws, finding_id="f", now="2026-11-21T14:12:06Z"), step, before, done)

    assert before == {"tag": {"key": TAG, "value": "2027-06-30"}}
    assert done == [f"removed tag {TAG}=2027-06-30 from role {ROLE}"]
    assert _tags(account) == {}


def test_a_value_set_again_since_the_event_is_kept(account: Account, enforcer: EnforcerService) -> None:
    event = _tagged(account)
    account.iam.tag_role(RoleName=ROLE, Tags=[{"Key": TAG, "Value": "2027-01-15"}])

    finding = _only(enforcer.handle(event))

    assert finding["done"] == []
    assert finding["outcome"] == Outcome.REMEDIATED  # "already gone" is done, not a failure
    assert "error" not in finding
    assert _tags(account)[TAG] == "2027-01-15"
    assert enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR).restored == ()
    assert _tags(account)[TAG] == "2027-01-15"


def test_undo_refuses_to_overwrite_a_tag_set_since(account: Account, enforcer: EnforcerService) -> None:
    finding = _only(enforcer.handle(_tagged(account)))
    account.iam.tag_role(RoleName=ROLE, Tags=[{"Key": TAG, "Value": "2026-12-31"}])

    with pytest.raises(UndoError, match="changed since"):
        enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert _tags(account)[TAG] == "2026-12-31"


def test_undo_of_a_role_deleted_since_says_so(account: Account, enforcer: EnforcerService) -> None:
    finding = _only(enforcer.handle(_tagged(account)))
    account.iam.delete_role(RoleName=ROLE)

    with pytest.raises(UndoError, match="no longer exists"):
        enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)


def test_a_role_gone_before_the_remediation_is_nothing_to_do(account: Account, enforcer: EnforcerService) -> None:
    event = _tagged(account)
    account.iam.untag_role(RoleName=ROLE, TagKeys=[TAG, "team"])
    account.iam.delete_role(RoleName=ROLE)

    finding = _only(enforcer.handle(event))

    assert finding["done"] == []
    assert finding["outcome"] == Outcome.REMEDIATED  # "already gone" is done, not a failure
    assert "error" not in finding


def test_a_role_re_created_under_the_name_since_the_event_keeps_its_tag(
    account: Account, enforcer: EnforcerService
) -> None:
    """Review s13 R5: a retried or replayed CreateRole event must not untag another role of the same name (an
    operator's exemption on a role deleted and re-created since): the remediation acts on the RoleId it names."""
    event = _tagged(account)
    account.iam.untag_role(RoleName=ROLE, TagKeys=[TAG, "team"])
    account.iam.delete_role(RoleName=ROLE)
    account.iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=TRUST, Tags=[{"Key": TAG, "Value": "2027-06-30"}])

    finding = _only(enforcer.handle(event))

    assert finding["done"] == []
    assert _tags(account) == {TAG: "2027-06-30"}


# --- the operator's pruner settings, read from SSM as the pruner reads them (session 14) -------------------------

CUSTOM_TAG = "acme:keep-permissions-until"


def _tag_role_event(key: str = TAG, value: str = "2027-06-30") -> dict[str, Any]:
    event = copy.deepcopy(load_event(SAMPLE))
    event["detail"]["requestParameters"]["tags"] = [{"key": key, "value": value}]
    return event


def test_the_enforcer_watches_the_tag_name_the_pruner_reads_from_ssm(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set("prune/exempt_tag", CUSTOM_TAG)

    default = enforcer.handle(_tag_role_event())
    custom = _only(enforcer.handle(_tag_role_event(CUSTOM_TAG)))

    assert default["findings"] == []
    assert custom["outcome"] == Outcome.ALERTED
    [alert] = notifier.sent
    assert alert.finding is not None
    assert f"(tag {CUSTOM_TAG})" in alert.finding.reason
    assert "(assumed:" not in alert.finding.reason  # the settings were read


def test_the_alert_says_until_when_the_capped_exemption_really_holds(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set("prune/max_exempt_days", "30")

    _only(enforcer.handle(_tag_role_event()))

    [alert] = notifier.sent
    assert alert.finding is not None
    assert "until about 2026-12-21 only, not 2027-06-30" in alert.finding.reason


def test_an_invalid_pruner_setting_is_judged_as_the_pruner_falls_back(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """prune/max_exempt_days 'soon' and an exempt_tag of spaces: the pruner uses 90 and the default tag (and reports
    them itself); the rule judges with the same."""
    account.set("prune/max_exempt_days", "soon")
    account.set("prune/exempt_tag", "   ")

    _only(enforcer.handle(_tag_role_event()))

    [alert] = notifier.sent
    assert alert.finding is not None
    assert "until about 2027-02-19 only" in alert.finding.reason


def test_unreadable_settings_fail_the_event_rather_than_judge_on_defaults(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    from iamwarden.adapters.ssm_settings import SettingsUnavailableError

    def refuse(*_: Any, **__: Any) -> dict[str, str]:
        raise RuntimeError("AccessDenied: ssm:GetParametersByPath")

    source: Any = enforcer.settings_source  # SsmSettingsSource, as Lambda wires it
    monkeypatch.setattr(source.provider, "get_multiple", refuse)

    with pytest.raises(SettingsUnavailableError):
        enforcer.handle(_tag_role_event())
    assert notifier.sent == []


def test_untagging_the_exempt_tag_alerts_the_roles_owners(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    from iamwarden.adapters.clients import ClientFactory
    from iamwarden.adapters.owners import OwnerResolver

    account.iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=TRUST, Tags=[{"Key": "owner", "Value": "payments"}])
    account.set("prune/notice_days", "5")
    account.set("prune/mode", "notify")
    account.set("rules/prune-exemption-granted/mode", "remediate")

    finding = _only(enforcer.handle(copy.deepcopy(load_event("prune-exemption-untagrole.json"))))

    assert finding["outcome"] == Outcome.ALERTED  # alert-only: nothing to put back, the value is not in the record
    [alert] = notifier.sent
    assert alert.finding is not None
    assert "may now remove unused actions from app-backend on its next run, announced 5 days ahead" in (
        alert.finding.reason
    )
    owner = OwnerResolver(ClientFactory(HOME_ACCOUNT, account.config.member_role_name, session=account.session))
    resolved = owner.owner_of(alert.finding, ("owner", "team"))
    assert resolved is not None
    assert resolved.team == "payments"


@pytest.mark.parametrize(("key", "value"), [("prune/enabled", "false"), ("prune/accounts", "999988887777")])
def test_untagging_the_exempt_tag_where_the_pruner_does_not_act_alerts_nobody(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, key: str, value: str
) -> None:
    """The settings read from SSM say the pruner does not act on the account: removing the tag changes nothing."""
    account.iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=TRUST, Tags=[{"Key": "owner", "Value": "payments"}])
    account.set(key, value)

    result = enforcer.handle(copy.deepcopy(load_event("prune-exemption-untagrole.json")))

    assert result["findings"] == []
    assert notifier.sent == []
