"""An attached managed policy whose text names a key twice is judged on every reading (session 13 note).

``managed-policy-ambiguous`` alerts such a policy when it is created; a later ``Attach*Policy`` read its default
version through boto3, which keeps each key's last value, so the last value decided silently. The reader now keeps
the text's other readings (``PolicyVersion.readings``) and ``privilege-escalation`` judges each: every reading
opening a method is certain as before; readings that disagree are alerted only (``needs_context``); none, nothing.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

from iamwarden.domain.catalog import Mode, Severity
from iamwarden.domain.findings import Judgement, StepAction, Verdict
from iamwarden.domain.managed_documents import PolicyVersion, PolicyVersions, read_version
from iamwarden.domain.settings import RuleSettings, Settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import SAMPLE_OWN, load_event

POLICY = "arn:aws:iam::111122223333:policy/app-s3-read"
RULE = "privilege-escalation"


class Texts:
    """A reader answering version v1 (the default) as IAM does: the document's text (``read_version``)."""

    def __init__(self, document: object, policy: str = POLICY) -> None:
        self.found = read_version("v1", document)
        self.policy = policy
        self.reads = 0

    def default_version(self, account: str, policy_arn: str) -> PolicyVersion | None:
        return self.found if policy_arn == self.policy else None

    def version(self, account: str, policy_arn: str, version_id: str) -> PolicyVersion | None:
        self.reads += 1
        return self.found if (policy_arn, version_id) == (self.policy, "v1") else None


def _text(body: str) -> str:
    return '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", ' + body + ', "Resource": "*"}]}'


def _attach(document: object) -> Judgement:
    settings = Settings(own=SAMPLE_OWN, rules={RULE: RuleSettings(RULE, Mode.REMEDIATE)})
    return judge_event(load_event("attach-customer-managed.json"), settings, Texts(document))


def test_every_reading_admin_is_certain_as_before() -> None:
    [finding] = _attach(_text('"Action": "iam:*", "Action": "*"')).findings
    [once] = _attach(_text('"Action": "*"')).findings
    assert finding.rule_id == RULE
    assert finding.severity is Severity.CRITICAL
    # Offline, whether the policy was attached before is all that is unknown, as with a text read one way.
    assert finding.needs_context == once.needs_context
    assert not any(fact.startswith("this policy can be read") for fact in finding.needs_context)
    assert finding.plan[0].action is StepAction.DETACH_MANAGED_POLICY


@pytest.mark.parametrize(
    "body",
    [
        '"Action": "*", "Action": "s3:GetObject"',  # the last value (boto3's) grants little: was compliant
        '"Action": "s3:GetObject", "Action": "*"',  # the last value grants everything: was certain
    ],
)
def test_readings_that_disagree_are_alerted_only_with_the_worst_readings_severity(body: str) -> None:
    judged = _attach(_text(body))
    [finding] = judged.findings
    assert finding.rule_id == RULE
    assert finding.severity is Severity.CRITICAL
    assert not finding.certain  # never remediated: which reading AWS enforces is unknown
    assert finding.plan[0].action is StepAction.DETACH_MANAGED_POLICY  # what remediate would do, said in the alert
    [two_ways] = [fact for fact in finding.needs_context if fact.startswith("this policy can be read")]
    assert two_ways.startswith(
        f"this policy can be read two ways: the text of version v1 of {POLICY} names a key twice with different "
        "values, AWS documents no reading of it, and 1 of the readings open a privilege-escalation method for role "
        "app-backend while the other does not"
    )


def test_an_url_encoded_text_as_iam_returns_it_is_read_every_way() -> None:
    judged = _attach(quote(_text('"Action": "*", "Action": "s3:GetObject"'), safe=""))
    [finding] = judged.findings
    assert not finding.certain
    assert any(fact.startswith("this policy can be read two ways") for fact in finding.needs_context)


def test_a_condition_key_in_two_cases_is_three_readings() -> None:
    condition = '"Condition": {"StringEquals": {"aws:SourceIp": "192.0.2.1", "AWS:SOURCEIP": "198.51.100.1"}}'
    found = read_version("v1", _text('"Action": "*", ' + condition))
    assert len(found.readings) >= 1  # the two spellings read as one key, keeping the first or the last


def test_no_reading_offending_is_compliant() -> None:
    judged = _attach(_text('"Action": "s3:ListBucket", "Action": "s3:GetObject"'))
    assert judged.verdict is Verdict.COMPLIANT
    assert judged.findings == ()


def test_a_reading_iam_would_have_refused_is_not_counted() -> None:
    # The first value of Effect is no effect at all: IAM accepted the policy, so that reading is not AWS's, and the
    # one it could be grants everything: certain, as with one reading.
    text = '{"Statement": [{"Effect": "Sometimes", "Effect": "Allow", "Action": "*", "Resource": "*"}]}'
    assert len(read_version("v1", text).readings) == 1
    [finding] = _attach(text).findings
    [once] = _attach(_text('"Action": "*"')).findings
    assert finding.severity is Severity.CRITICAL
    assert finding.needs_context == once.needs_context


def test_a_document_read_already_decoded_has_one_reading() -> None:
    assert read_version("v1", {"Statement": []}).readings == ()
    assert read_version("v1", _text('"Action": "*"')).readings == ()


def test_a_text_that_is_not_json_is_an_error_of_the_read() -> None:
    with pytest.raises(ValueError, match="Expecting value"):
        read_version("v1", "not a policy")


# --- SetDefaultPolicyVersion of such a version -----------------------------------------------------------------

APP_DEPLOY = "arn:aws:iam::111122223333:policy/app-deploy"


def _made_default(document: object) -> tuple[Judgement, Texts]:
    reader = Texts(document, APP_DEPLOY)
    settings = Settings(
        own=SAMPLE_OWN, rules={"policy-version-admin": RuleSettings("policy-version-admin", Mode.REMEDIATE)}
    )
    return judge_event(load_event("set-default-policy-version.json"), settings, reader), reader


def test_a_default_version_read_two_ways_that_disagree_is_alerted_only() -> None:
    judged, reader = _made_default(_text('"Action": "*", "Action": "s3:GetObject"'))
    [finding] = judged.findings
    assert finding.rule_id == "policy-version-admin"
    assert finding.severity is Severity.CRITICAL
    assert not finding.certain
    assert finding.needs_context[-1].startswith(
        f"this policy can be read two ways: the text of version v1 of {APP_DEPLOY} names a key twice"
    )
    assert reader.reads == 1  # the version is read once: its readings are judged from what was read


def test_a_default_version_admin_on_every_reading_is_as_before() -> None:
    [finding] = _made_default(_text('"Action": "iam:*", "Action": "*"'))[0].findings
    [once] = _made_default(_text('"Action": "*"'))[0].findings
    assert (finding.rule_id, finding.severity) == (once.rule_id, once.severity)
    assert finding.needs_context == once.needs_context
    assert [step.action for step in finding.plan] == [step.action for step in once.plan]


def test_a_default_version_no_reading_of_which_offends_is_compliant() -> None:
    judged, _ = _made_default(_text('"Action": "s3:ListBucket", "Action": "s3:GetObject"'))
    assert judged.verdict is Verdict.COMPLIANT


# --- CreatePolicyVersion as the default carries its text: the engine reads it every way -------------------------


def test_a_new_default_version_whose_text_disagrees_with_itself_is_alerted_only() -> None:
    event = load_event("create-policy-version-admin.json")
    event["detail"]["requestParameters"]["policyDocument"] = _text('"Action": "*", "Action": "s3:GetObject"')
    [finding] = judge_event(event, Settings(own=SAMPLE_OWN)).findings
    assert finding.rule_id == "policy-version-admin"
    assert finding.severity is Severity.CRITICAL
    assert not finding.certain
    assert "requestParameters.policyDocument: Statement[0].Action" in finding.needs_context[-1]


class Listing(Texts):
    """``Texts`` that also lists the policy's versions (as the live reader and authorization details do): v0 was the
    default before v1, and v0 grants nothing to escalate with."""

    V0 = PolicyVersion("v0", {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"}]})

    def policy_versions(self, account: str, policy_arn: str) -> PolicyVersions | None:
        return PolicyVersions("v0", (self.V0, self.found)) if policy_arn == self.policy else None


def test_a_default_version_read_every_way_still_has_its_listing() -> None:
    # Review s14 R1: the reader remembering what it read hid policy_versions from isinstance(ListsPolicyVersions) on
    # Python 3.12+, so the previous default (v0) was lost for every SetDefaultPolicyVersion.
    for body in ('"Action": "*"', '"Action": "iam:*", "Action": "*"'):
        reader = Listing(_text(body), APP_DEPLOY)
        settings = Settings(
            own=SAMPLE_OWN, rules={"policy-version-admin": RuleSettings("policy-version-admin", Mode.REMEDIATE)}
        )
        [finding] = judge_event(load_event("set-default-policy-version.json"), settings, reader).findings
        assert finding.plan[0].parameters["previous_version"] == "v0"
        assert finding.certain
        assert reader.reads == 1
