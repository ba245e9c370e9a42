"""A document a rule needs cannot be read: permanent errors make the rule unjudged, transient ones fail."""

from __future__ import annotations

import pytest

from iamwarden.adapters.errors import PermanentAwsError, TransientAwsError
from iamwarden.alerts.message import build_message
from iamwarden.alerts.notifications import finding_notification
from iamwarden.domain.catalog import Severity
from iamwarden.domain.findings import Outcome, Verdict
from iamwarden.domain.managed_documents import PolicyVersion
from iamwarden.domain.settings import Settings, load_settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import load_event

APP_DEPLOY = "arn:aws:iam::111122223333:policy/app-deploy"


class FailingDocuments:
    """A reader whose every read raises ``error``."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def default_version(self, account: str, policy_arn: str) -> PolicyVersion | None:
        raise self.error

    def version(self, account: str, policy_arn: str, version_id: str) -> PolicyVersion | None:
        raise self.error


def _denied() -> PermanentAwsError:
    return PermanentAwsError("GetPolicyVersion: AccessDenied: not authorized", code="AccessDenied", resource=APP_DEPLOY)


def test_a_permanent_read_failure_leaves_the_rule_unjudged_with_what_and_why() -> None:
    judgement = judge_event(load_event("set-default-policy-version.json"), Settings(), FailingDocuments(_denied()))

    assert judgement.verdict is Verdict.IGNORED
    assert judgement.findings == ()
    [unjudged] = judgement.unjudged
    assert judgement.reason == f"cannot judge: {unjudged.reason}"
    assert (unjudged.rule_id, unjudged.resource_arn, unjudged.severity) == (
        "policy-version-admin",
        APP_DEPLOY,
        Severity.HIGH,
    )
    assert unjudged.plan == ()
    assert unjudged.reason.startswith(f"IAM Warden could not read {APP_DEPLOY} to judge SetDefaultPolicyVersion by ")
    assert "changed nothing: GetPolicyVersion: AccessDenied: not authorized" in unjudged.reason
    assert unjudged.reason.endswith("and that IAM Warden's role may read it.")


def test_a_permanent_failure_that_is_no_denial_does_not_blame_permissions() -> None:
    error = PermanentAwsError("GetPolicyVersion: InvalidInput: bad version id", code="InvalidInput")

    judgement = judge_event(load_event("set-default-policy-version.json"), Settings(), FailingDocuments(error))

    [unjudged] = judgement.unjudged
    assert unjudged.resource_arn == "arn:aws:iam::111122223333:root"  # the reader did not say what it read
    assert "could not read what rule policy-version-admin needs" in unjudged.reason
    assert unjudged.reason.endswith("Check the change by hand.")


def test_a_rule_that_is_off_is_never_asked() -> None:
    # iamwarden-tampered judges SetDefaultPolicyVersion too (IAM Warden's own policies): off as well, no rule is on.
    off = {"mode": "off"}
    settings = load_settings(
        {"rules": {"policy-version-admin": off, "privilege-escalation": off, "iamwarden-tampered": off}}
    )

    judgement = judge_event(load_event("set-default-policy-version.json"), settings, FailingDocuments(_denied()))

    assert judgement.unjudged == ()
    assert judgement.verdict is Verdict.IGNORED


@pytest.mark.parametrize(
    "error",
    [TransientAwsError("GetPolicyVersion: Throttling", code="Throttling"), RuntimeError("a bug")],
    ids=["transient", "not-aws"],
)
def test_other_failures_fail_the_judgement(error: Exception) -> None:
    with pytest.raises(type(error)):
        judge_event(load_event("set-default-policy-version.json"), Settings(), FailingDocuments(error))


def test_offline_the_rule_still_says_the_document_is_read_live() -> None:
    judgement = judge_event(load_event("set-default-policy-version.json"), Settings())

    assert judgement.unjudged == ()
    assert judgement.reason.startswith("cannot judge: SetDefaultPolicyVersion names version v1")


def test_the_alert_of_an_unjudged_rule_says_nothing_was_changed() -> None:
    judgement = judge_event(load_event("set-default-policy-version.json"), Settings(), FailingDocuments(_denied()))
    [unjudged] = judgement.unjudged

    message = build_message(
        finding_notification(Outcome.NOTEWORTHY, unjudged, judgement.change, "rem-x", settings_prefix="/iamwarden")
    )

    assert message.title.startswith("Noteworthy: ")
    assert message.summary == unjudged.reason
    assert message.record["actions"] == []
    did = {section.heading: section.lines for section in message.sections}["What IAM Warden did"]
    assert did == ("Nothing. This change is reported for your information.",)


def test_a_remediation_that_found_nothing_left_does_not_call_the_resource_compliant() -> None:
    """Every step found the change gone: put right already, or changed again since (never touched)."""
    judgement = judge_event(load_event("attach-admin-to-role.json"), Settings())
    [finding] = judgement.findings

    notice = finding_notification(Outcome.REMEDIATED, finding, judgement.change, "rem-x", settings_prefix="/iamwarden")

    [line] = notice.actions
    assert "no longer in place" in line
    assert "changed again since" in line
    assert "compliant" not in line
