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


HEAD = (
    f"this policy can be read two ways: the text of version v1 of {POLICY} names a key twice with different values, "
    "and AWS documents no reading of it. Read with each key's last value (as boto3 reads it), it "
)
OFFLINE = "whether app-s3-read was already attached to role app-backend before this event"


@pytest.mark.parametrize(
    ("body", "readings"),
    [
        (
            '"Action": "*", "Action": "s3:GetObject"',  # the last value (boto3's) grants little: was compliant
            "opens nothing IAM Warden guards against; another way (reading 2), it may open admin-equivalent access",
        ),
        (
            '"Action": "s3:GetObject", "Action": "*"',  # the last value grants everything
            "may open admin-equivalent access (it rests on what IAM Warden could not know); another way (reading 2), "
            "it opens nothing IAM Warden guards against",
        ),
    ],
)
def test_readings_that_disagree_offline_are_alerted_with_the_worst_readings_severity(body: str, readings: str) -> None:
    # Offline, whether the policy was attached before is unknown on every reading: no reading is certain, so the
    # finding is alert-only (live, where that is known, the admin reading is remediated: the functional test).
    judged = _attach(_text(body))
    [finding] = judged.findings
    assert finding.rule_id == RULE
    assert finding.severity is Severity.CRITICAL
    assert not finding.certain
    assert finding.plan[0].action is StepAction.DETACH_MANAGED_POLICY  # what remediate would do, said in the alert
    assert finding.needs_context[0] == OFFLINE
    [two_ways] = finding.needs_context[1:]
    assert two_ways.startswith(HEAD + readings)
    assert two_ways.endswith("(alerted only: rewrite the policy with each key once)")


@pytest.mark.parametrize(
    "body",
    [
        '"Action": "iam:PassRole", "Action": "s3:GetObject"',  # review s14 R3: was compliant (last value harmless)
        '"Action": "s3:GetObject", "Action": "iam:PassRole"',
    ],
)
def test_a_reading_that_only_may_open_a_method_is_never_silently_compliant(body: str) -> None:
    [once] = _attach(_text('"Action": "iam:PassRole"')).findings  # one reading: high, check it by hand
    judged = _attach(_text(body))
    assert judged.verdict is Verdict.VIOLATION
    [finding] = judged.findings
    assert (finding.rule_id, finding.severity, finding.reason) == (once.rule_id, once.severity, once.reason)
    assert not finding.certain
    assert finding.needs_context[:-1] == once.needs_context
    assert finding.needs_context[-1].startswith(HEAD)
    assert (
        "it may open a privilege-escalation method (it rests on what IAM Warden could not know)"
        in (finding.needs_context[-1])
    )


def test_an_url_encoded_text_as_iam_returns_it_is_read_every_way() -> None:
    judged = _attach(quote(_text('"Action": "*", "Action": "s3:GetObject"'), safe=""))
    [finding] = judged.findings
    assert not finding.certain
    assert any(fact.startswith("this policy can be read two ways") for fact in finding.needs_context)


def test_a_condition_key_in_two_cases_is_three_readings() -> None:
    condition = '"Condition": {"StringEquals": {"aws:SourceIp": "192.0.2.1", "AWS:SOURCEIP": "198.51.100.1"}}'
    found = read_version("v1", _text('"Action": "*", ' + condition))
    # boto3's reading keeps both spellings; the others keep one each (condition keys are case-insensitive).
    assert [reading["Statement"][0]["Condition"] for reading in found.readings] == [
        {"StringEquals": {"aws:SourceIp": "192.0.2.1"}},
        {"StringEquals": {"aws:SourceIp": "198.51.100.1"}},
    ]
    # Every reading grants everything: the finding is the one-reading finding, with no "two ways" line.
    [finding] = _attach(_text('"Action": "*", ' + condition)).findings
    [once] = _attach(_text('"Action": "*"')).findings
    assert (finding.severity, finding.needs_context) == (once.severity, once.needs_context)


def test_no_reading_offending_is_compliant() -> None:
    judged = _attach(_text('"Action": "s3:ListBucket", "Action": "s3:GetObject"'))
    assert judged.verdict is Verdict.COMPLIANT
    assert judged.findings == ()


@pytest.mark.parametrize(
    "effects",
    ['"Effect": "Sometimes", "Effect": "Allow"', '"Effect": "Allow", "Effect": "Sometimes"'],  # review s14 R5
)
def test_a_reading_iam_would_have_refused_is_dropped_wherever_it_is(effects: str) -> None:
    # One value of Effect is no effect at all: IAM accepted the policy, so that reading is not AWS's, first or last
    # (boto3's); the one left grants everything: the finding of a text read one way.
    text = '{"Statement": [{' + effects + ', "Action": "*", "Resource": "*"}]}'
    assert len(read_version("v1", text).readings) == 1
    judged = _attach(text)
    [finding] = judged.findings
    [once] = _attach(_text('"Action": "*"')).findings
    assert (finding.rule_id, finding.severity, finding.needs_context) == (RULE, Severity.CRITICAL, once.needs_context)


def test_a_text_no_reading_of_which_parses_is_invalid() -> None:
    text = '{"Statement": [{"Effect": "Sometimes", "Effect": "Never", "Action": "*", "Resource": "*"}]}'
    judged = _attach(text)
    assert judged.verdict is Verdict.INVALID
    assert judged.findings == ()


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


def test_a_default_version_read_two_ways_with_no_previous_default_known_is_alerted_only() -> None:
    # Without a listing the plan would write a new version from one reading of the text: a guess (review s14 R9).
    judged, reader = _made_default(_text('"Action": "*", "Action": "s3:GetObject"'))
    [finding] = judged.findings
    assert finding.rule_id == "policy-version-admin"
    assert finding.severity is Severity.CRITICAL
    assert not finding.certain
    assert finding.needs_context[-1].startswith(
        f"this policy can be read two ways: the text of version v1 of {APP_DEPLOY} names a key twice with different "
        "values, and AWS documents no reading of it. Read with each key's last value (as boto3 reads it), it opens "
        "nothing IAM Warden guards against; another way (reading 2), it opens admin-equivalent access"
    )
    assert finding.needs_context[-1].endswith(
        "(alerted only: the policy reads two ways; IAM Warden will not write a version from either reading; which "
        "version was the default before is not known)"
    )
    assert reader.reads == 1  # the version is read once: its readings are judged from what was read


def test_a_default_version_admin_on_every_reading_is_alerted_when_undoing_would_write_a_version() -> None:
    # Both readings agree, but no previous default is known offline: the plan would write a version from the
    # last-wins text (review 2 of s14, F1), so the finding is the text read once, alerted only.
    [finding] = _made_default(_text('"Action": "iam:*", "Action": "*"'))[0].findings
    [once] = _made_default(_text('"Action": "*"'))[0].findings
    assert once.certain
    assert (finding.rule_id, finding.severity) == (once.rule_id, once.severity)
    assert not finding.certain
    assert finding.needs_context[:-1] == once.needs_context
    assert "IAM Warden will not write a version from either reading" in finding.needs_context[-1]
    assert [step.action for step in finding.plan] == [step.action for step in once.plan]


def test_a_default_version_no_reading_of_which_offends_is_compliant() -> None:
    judged, _ = _made_default(_text('"Action": "s3:ListBucket", "Action": "s3:GetObject"'))
    assert judged.verdict is Verdict.COMPLIANT


# --- CreatePolicyVersion as the default carries its text: the engine reads it every way -------------------------


def test_a_new_default_version_whose_text_disagrees_with_itself_is_alerted_only() -> None:
    # Offline no previous default is known: undoing it would write a new version from one reading (a guess).
    event = load_event("create-policy-version-admin.json")
    event["detail"]["requestParameters"]["policyDocument"] = _text('"Action": "*", "Action": "s3:GetObject"')
    [finding] = judge_event(event, Settings(own=SAMPLE_OWN)).findings
    assert finding.rule_id == "policy-version-admin"
    assert finding.severity is Severity.CRITICAL
    assert not finding.certain
    assert finding.needs_context[-1].startswith(
        "this policy can be read two ways: the event's policy text (requestParameters.policyDocument: "
        "Statement[0].Action) names a key twice"
    )
    assert finding.needs_context[-1].endswith("which version was the default before is not known)")


_ADMIN_AND_READ = (
    '{"Version":"2012-10-17","Statement":[{%s"Effect":"Allow","Action":"*","Resource":"*"},'
    '{"Effect":"Allow",%s"Resource":"*"}]}'
)


@pytest.mark.parametrize("sid", ['"Sid":"A","Sid":"B",', '"Sid":"B",'])
def test_a_new_default_version_whose_only_duplicate_is_a_sid_is_undone_as_any_other(sid: str) -> None:
    # Review 3 of s14, R4: a Sid named twice grants nothing either way, so the write (v1 without the admin
    # statement) is the same whichever Sid AWS kept; the text with one Sid is judged the same.
    event = load_event("create-policy-version-admin.json")
    event["detail"]["requestParameters"]["policyDocument"] = _ADMIN_AND_READ % (sid, '"Action":"s3:GetObject",')
    [finding] = judge_event(event, Settings(own=SAMPLE_OWN)).findings
    assert finding.rule_id == "policy-version-admin"
    assert finding.certain
    assert not finding.needs_context
    [step] = [step for step in finding.plan if "statements" in step.parameters]
    assert "read_two_ways" not in step.parameters


def test_a_new_default_version_whose_kept_statement_reads_two_ways_is_still_alerted_only() -> None:
    # The statement the write would keep names Action twice: writing it would take one reading, a guess.
    event = load_event("create-policy-version-admin.json")
    text = _ADMIN_AND_READ % ('"Sid":"A","Sid":"B",', '"Action":"s3:GetObject","Action":"s3:ListBucket",')
    event["detail"]["requestParameters"]["policyDocument"] = text
    [finding] = judge_event(event, Settings(own=SAMPLE_OWN)).findings
    assert finding.rule_id == "policy-version-admin"
    assert not finding.certain
    assert "Statement[1].Action" in finding.needs_context[-1]
    assert finding.needs_context[-1].endswith("which version was the default before is not known)")


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


def _listed_default(body: str) -> Judgement:
    settings = Settings(
        own=SAMPLE_OWN,
        rules={rule: RuleSettings(rule, Mode.REMEDIATE) for rule in ("policy-version-admin", "privilege-escalation")},
    )
    return judge_event(load_event("set-default-policy-version.json"), settings, Listing(_text(body), APP_DEPLOY))


@pytest.mark.parametrize("body", ['"Action": "*", "Action": "s3:GetObject"', '"Action": "s3:GetObject", "Action": "*"'])
def test_a_default_version_one_reading_of_which_is_admin_is_restored_with_which_reading_grants_what(body: str) -> None:
    # The lead's decision (review s14 R7): one harmless duplicate key must not turn a remediable default into an
    # alert. The previous default (v0) is known: making it the default again undoes the change on every reading.
    [finding] = _listed_default(body).findings
    assert finding.rule_id == "policy-version-admin"
    assert finding.severity is Severity.CRITICAL
    assert finding.certain
    assert finding.plan[0].parameters["previous_version"] == "v0"
    assert "This policy can be read two ways: the text of version v1 of " in finding.reason
    assert "it opens nothing IAM Warden guards against" in finding.reason
    assert "it opens admin-equivalent access" in finding.reason
    assert finding.reason.endswith(
        "IAM Warden acts on the reading that opens the most (rewrite the policy with each key once)."
    )


def test_readings_opening_different_things_are_compared_by_what_they_open_not_by_rule() -> None:
    # Review s14 R2: both readings offend (one admin, one a method), under two rules and severities: the admin
    # reading's finding stands, certain, and the reason names both readings.
    [finding] = _listed_default('"Action": "iam:CreateAccessKey", "Action": "*"').findings
    assert finding.rule_id == "policy-version-admin"
    assert finding.certain
    assert finding.plan[0].parameters["previous_version"] == "v0"
    assert "it opens admin-equivalent access; another way (reading 2), it opens CreateAccessKey" in finding.reason


@pytest.mark.parametrize("body", ['"Action": "*", "Action": "s3:GetObject"', '"Action": "s3:GetObject", "Action": "*"'])
def test_a_new_default_version_one_reading_of_which_is_admin_is_undone_when_the_previous_default_is_known(
    body: str,
) -> None:
    # The lead's decision for CreatePolicyVersion (the engine's readings): the previous default (v0) is listed, so
    # the admin reading's plan, making v0 the default again, runs whichever reading AWS holds.
    event = load_event("create-policy-version-admin.json")
    event["detail"]["requestParameters"]["policyDocument"] = _text(body)
    reader = Listing(_text('"Action": "s3:GetObject"'), APP_DEPLOY)
    settings = Settings(
        own=SAMPLE_OWN, rules={"policy-version-admin": RuleSettings("policy-version-admin", Mode.REMEDIATE)}
    )
    [finding] = judge_event(event, settings, reader).findings
    assert finding.rule_id == "policy-version-admin"
    assert finding.certain
    assert finding.plan[0].parameters["previous_version"] == "v0"
    assert "This policy can be read two ways: the event's policy text (" in finding.reason
    assert "it opens admin-equivalent access" in finding.reason


@pytest.mark.parametrize("body", ['"Action": "*", "Action": "s3:*"', '"Action": "s3:*", "Action": "*"'])
def test_a_whole_service_reading_and_an_admin_reading_disagree_and_the_admin_one_is_acted_on(body: str) -> None:
    # Review s14 R2: both readings offend under one rule (high for s3:* everywhere, critical for *): they open
    # different things, so the admin reading's critical finding stands, certain, whichever value boto3 keeps.
    [finding] = _listed_default(body).findings
    assert (finding.rule_id, finding.severity, finding.certain) == ("policy-version-admin", Severity.CRITICAL, True)
    assert finding.plan[0].parameters["previous_version"] == "v0"
    assert "it opens every action of s3 on every resource" in finding.reason
    assert "it opens admin-equivalent access" in finding.reason
