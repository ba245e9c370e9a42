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


# --- a rule that cannot read a routed event (review s11 F19) ------------------------------------------------


def _padded_public_opensearch_policy(size: int) -> dict[str, object]:
    """The public OpenSearch sample with harmless statements before its public one, to about ``size`` bytes."""
    import json

    event = load_event("opensearch-policy-public.json")
    config = event["detail"]["requestParameters"]
    key = "accessPolicies"
    policy = json.loads(config[key])
    filler = {"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "es:ESHttpDelete"}
    while len(json.dumps(policy)) < size:
        policy["Statement"].insert(0, {**filler, "Sid": f"Pad{len(policy['Statement'])}", "Resource": "x" * 200})
    config[key] = json.dumps(policy)
    return event


def test_an_opensearch_policy_within_aws_limit_is_judged_not_refused_as_oversized() -> None:
    # AWS allows a domain access policy of 102,400 bytes; IAM Warden's old 20 KB bound made this "invalid", unjudged.
    judgement = judge_event(_padded_public_opensearch_policy(32_800), Settings())

    assert judgement.verdict is Verdict.VIOLATION
    assert {finding.rule_id for finding in judgement.findings} == {"opensearch-access-policy-public"}


def test_an_event_a_rule_cannot_read_is_invalid_and_says_so_as_an_unjudged_finding() -> None:
    judgement = judge_event(_padded_public_opensearch_policy(110_000), Settings())

    assert judgement.verdict is Verdict.INVALID
    assert judgement.findings == ()
    [unjudged] = judgement.unjudged
    assert unjudged.rule_id == "opensearch-access-policy-public"
    assert unjudged.severity is Severity.MEDIUM
    assert unjudged.plan == ()
    assert "over AWS's 102400 limit for a domain access policy" in unjudged.reason
    assert unjudged.reason.startswith("IAM Warden could not judge UpdateDomainConfig by ")


def test_one_rule_that_cannot_read_the_event_leaves_the_other_rules_findings_standing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from iamwarden.domain.exceptions import InvalidEventError
    from iamwarden.guardrails.registry import GUARDRAILS_BY_EVENT

    event = load_event("attach-admin-to-role.json")
    guardrails = GUARDRAILS_BY_EVENT[("iam.amazonaws.com", "AttachRolePolicy")]
    [escalation] = [g for g in guardrails if any(spec.id == "privilege-escalation" for spec in g.specs)]

    def unreadable(context: object) -> object:
        raise InvalidEventError("detail.requestParameters.policyArn is not what privilege-escalation reads")

    monkeypatch.setattr(escalation, "evaluate", unreadable)

    judgement = judge_event(event, Settings())

    assert judgement.verdict is Verdict.VIOLATION
    assert [finding.rule_id for finding in judgement.findings] == ["managed-policy-attached"]
    [unjudged] = judgement.unjudged
    assert unjudged.rule_id == "privilege-escalation"
    assert "is not what privilege-escalation reads" in unjudged.reason
