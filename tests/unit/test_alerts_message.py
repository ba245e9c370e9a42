"""The channel-neutral alert: content per rule and outcome, links, wording, plain text and Markdown."""

from __future__ import annotations

import json
from typing import Any

import pytest

from iamwarden.alerts.message import (
    RISKS,
    AlertMessage,
    Owner,
    build_message,
    console_url,
    describe_actor,
    describe_resource,
    risk_of,
)
from iamwarden.alerts.notifications import Notification
from iamwarden.alerts.render import clip, render_markdown, render_text
from iamwarden.domain.catalog import Severity
from iamwarden.domain.earlier_sessions import code
from iamwarden.domain.exceptions import SettingsProblem
from iamwarden.domain.findings import Finding, Outcome
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from iamwarden.guardrails.registry import RULES
from tests.conftest import load_event


def notification(event: str, settings: Settings, outcome: Outcome = Outcome.ALERTED, **changes: Any) -> Notification:
    judgement = judge_event(load_event(event), settings)
    return Notification(outcome, judgement.findings[0], judgement.change)._replace(**changes)


def facts(message: AlertMessage) -> dict[str, str]:
    return {fact.label: fact.value for fact in message.facts}


def section(message: AlertMessage, heading: str) -> str:
    [found] = [s for s in message.sections if s.heading.startswith(heading)]
    return "\n".join(found.lines)


def test_an_alert_says_what_when_who_where_and_why(example_settings: Settings) -> None:
    message = build_message(
        notification("attach-admin-to-role.json", example_settings),
        account_alias="acme-prod",
        owner=Owner("payments", "tag team on role app-backend"),
        owner_routed=True,
    )
    assert message.header == "🔴 CRITICAL · Alert: AWS-managed policy attached (role app-backend)"
    assert message.summary.startswith("The AWS-managed policy AdministratorAccess was attached to role app-backend")
    assert facts(message) == {
        "When": "2026-11-13T09:22:18Z",
        "Who": "`arn:aws:sts::111122223333:assumed-role/developer/dev@example.com`",
        "How": "in the AWS console, without MFA, from 203.0.113.61",
        "Account": "111122223333 (acme-prod)",
        "Region": "us-east-1",
        "Resource": "role app-backend",
        "Rule": "AWS-managed policy attached, critical, mode alert",
        "Owner": "payments (from tag team on role app-backend)",
    }
    [resource] = [fact for fact in message.facts if fact.label == "Resource"]
    assert resource.link == "https://console.aws.amazon.com/iam/home#/roles/details/app-backend"
    assert resource.literal == "arn:aws:iam::111122223333:role/app-backend"
    assert section(message, "Why it is risky") == RISKS["managed-policy-attached"]
    assert section(message, "What IAM Warden would do") == "detach AdministratorAccess from role app-backend"
    assert "Nothing was changed" in section(message, "What IAM Warden did")
    assert section(message, "How to undo it") == "Nothing to undo: IAM Warden changed nothing."
    exception = section(message, "How to ask for an exception")
    assert "`/iamwarden/rules/managed-policy-attached/allow_resources`" in exception
    assert "`arn:aws:iam::111122223333:role/app-backend`" in exception
    assert (
        "`arn:aws:iam::111122223333:role/developer` to `/iamwarden/rules/managed-policy-attached/allow_actors`"
        in exception
    )
    assert "`AdministratorAccess` to `/iamwarden/rules/managed-policy-attached/allow_policies`" in exception
    assert message.audit_ids == {
        "CloudTrail event": "7c5ef0c4-750f-4eb0-81be-0ca2bf18bb20",
        "Finding": "481508586e3376e7b004",
    }


def test_a_remediation_gives_its_undo_command_and_ids(example_settings: Settings) -> None:
    message = build_message(
        notification(
            "create-user-backdoor-cli.json",
            example_settings,
            Outcome.REMEDIATED,
            remediation_id="rem-02339115a5ed3387061d",
            actions=("attached the deny-all policy iamwarden-quarantine to user backdoor-admin",),
        )
    )
    assert message.title == "Remediated: IAM user created (user backdoor-admin)"
    assert (
        section(message, "What IAM Warden did")
        == "attached the deny-all policy iamwarden-quarantine to user backdoor-admin"
    )
    assert "`iamwarden undo rem-02339115a5ed3387061d`" in section(message, "How to undo it")
    assert message.audit_ids["Remediation"] == "rem-02339115a5ed3387061d"
    assert message.record["undo"] == {"possible": True, "command": "iamwarden undo rem-02339115a5ed3387061d"}
    assert facts(message)["How"] == "with the AWS CLI, without MFA, from 198.51.100.23"


def test_a_remediation_without_an_id_uses_the_documented_format(example_settings: Settings) -> None:
    note = notification("create-user-backdoor-cli.json", example_settings, Outcome.REMEDIATED)
    assert note.finding is not None
    message = build_message(note)
    assert message.audit_ids["Remediation"] == f"rem-{note.finding.finding_id}"
    assert section(message, "What IAM Warden did (its remediation plan)").startswith("quarantine user backdoor-admin")


def test_a_deleted_user_is_said_to_be_unrecoverable(example_settings: Settings) -> None:
    message = build_message(
        notification("create-user-backdoor-cli.json", example_settings, Outcome.REMEDIATED, undoable=False)
    )
    undo = section(message, "How to undo it")
    assert "cannot be undone" in undo
    assert "cannot be restored" in undo
    assert "iamwarden undo" not in undo
    assert message.record["undo"] == {"possible": False, "command": None}


def test_a_failed_remediation_says_what_went_wrong(example_settings: Settings) -> None:
    message = build_message(
        notification(
            "bucket-policy-public-read.json",
            example_settings,
            Outcome.REMEDIATION_FAILED,
            error="AccessDenied on s3:PutBucketPolicy",
        )
    )
    assert message.title.startswith("Remediation failed: Bucket policy open to the public (bucket acme-invoices)")
    assert "AccessDenied on s3:PutBucketPolicy" in section(message, "What went wrong")
    assert "may still be in place" in section(message, "What went wrong")
    assert "whatever part of the plan did run" in section(message, "How to undo it")
    assert message.details is not None
    assert message.details.heading == "Offending statement"
    assert '"Principal": "*"' in message.details.text


def test_a_break_glass_change_is_noteworthy_and_never_remediated(example_settings: Settings) -> None:
    message = build_message(notification("create-user-break-glass.json", example_settings, Outcome.NOTEWORTHY))
    assert message.title == "Break-glass change: IAM user created (user incident-responder)"
    assert "never remediated" in section(message, "What IAM Warden did")
    assert not [s for s in message.sections if s.heading == "How to ask for an exception"]
    assert facts(message)["How"] == "in the AWS console, with MFA, from 192.0.2.201"


def test_an_unknown_or_unrouted_owner_is_said_so(example_settings: Settings) -> None:
    note = notification("attach-admin-to-role.json", example_settings)
    assert facts(build_message(note))["Owner"].startswith("unknown: no owner tag")
    unrouted = build_message(note, owner=Owner("payments", "tag team on role app-backend"), owner_routed=False)
    assert "no alert destination" in facts(unrouted)["Owner"]


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_every_rule_has_a_plain_risk_sentence(rule_id: str) -> None:
    sentence = risk_of(rule_id)
    assert sentence.endswith(".")
    assert sentence.count(". ") == 0  # one sentence


def test_a_new_rule_falls_back_to_the_catalogue_then_a_generic_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(RISKS, "iam-user-created")
    assert risk_of("iam-user-created") == RULES["iam-user-created"].risk
    assert "future-rule" in risk_of("future-rule")


@pytest.mark.parametrize(
    ("arn", "region", "url"),
    [
        (
            "arn:aws:iam::111122223333:user/ops/alice",
            "us-east-1",
            "https://console.aws.amazon.com/iam/home#/users/details/alice",
        ),
        (
            "arn:aws:iam::111122223333:group/developers",
            "us-east-1",
            "https://console.aws.amazon.com/iam/home#/groups/details/developers",
        ),
        (
            "arn:aws:iam::111122223333:role/a+b=c,d@e",
            "us-east-1",
            "https://console.aws.amazon.com/iam/home#/roles/details/a%2Bb%3Dc%2Cd%40e",
        ),
        (
            "arn:aws:s3:::acme-media",
            "eu-west-1",
            "https://s3.console.aws.amazon.com/s3/buckets/acme-media?region=eu-west-1",
        ),
        (
            "arn:aws-cn:iam::111122223333:role/app",
            "cn-north-1",
            "https://console.amazonaws.cn/iam/home#/roles/details/app",
        ),
        (
            "arn:aws-cn:s3:::acme-cn",
            "cn-northwest-1",
            "https://console.amazonaws.cn/s3/buckets/acme-cn?region=cn-northwest-1",
        ),
        (
            "arn:aws-us-gov:iam::111122223333:user/bob",
            "us-gov-west-1",
            "https://console.amazonaws-us-gov.com/iam/home#/users/details/bob",
        ),
        (
            "arn:aws-us-gov:s3:::acme-gov",
            "us-gov-east-1",
            "https://console.amazonaws-us-gov.com/s3/buckets/acme-gov?region=us-gov-east-1",
        ),
        ("arn:aws-iso:iam::111122223333:role/app", "us-iso-east-1", None),
        ("arn:aws:s3:::acme-media/key", "eu-west-1", None),
        ("arn:aws:iam::aws:policy/AdministratorAccess", "us-east-1", None),
        ("not-an-arn", "us-east-1", None),
    ],
)
def test_console_links_follow_the_partition(arn: str, region: str, url: str | None) -> None:
    assert console_url(arn, region) == url


def test_resources_are_named_in_words() -> None:
    assert describe_resource("arn:aws:iam::111122223333:user/service-accounts/legacy-smtp") == "user legacy-smtp"
    assert describe_resource("arn:aws:s3:::acme-media") == "bucket acme-media"
    assert describe_resource("arn:aws:sqs:us-east-1:111122223333:q") == "arn:aws:sqs:us-east-1:111122223333:q"


def test_how_a_call_was_made(example_settings: Settings) -> None:
    judgement = judge_event(load_event("bucket-policy-by-aws-service.json"), example_settings)
    assert judgement.change is not None
    assert describe_actor(judgement.change.actor).startswith("by an AWS service")


def test_code_spans_cannot_be_broken_out_of() -> None:
    assert code("a`b\nc") == "`a'b c`"


def test_the_subject_is_short_ascii(example_settings: Settings) -> None:
    note = notification("attach-admin-to-role.json", example_settings)
    assert note.finding is not None
    long = note._replace(finding=note.finding._replace(resource_arn="arn:aws:iam::111122223333:role/" + "é" * 64))
    subject = build_message(long).subject
    assert subject.isascii()
    assert len(subject) < 100
    assert subject.startswith("[CRITICAL] Alert: AWS-managed policy attached")
    assert subject.endswith("...")


def test_configuration_errors_name_each_parameter_and_the_fallback() -> None:
    problems = (
        SettingsProblem("rules/iam-user-created/mode", "must be one of off, alert, remediate, got 'enforce'"),
        SettingsProblem("organization_id", "must be an organization id like o-a1b2c3d4e5, got 'x'"),
    )
    message = build_message(
        Notification(Outcome.CONFIGURATION_ERROR, problems=problems, settings_prefix="/warden/"), account="111122223333"
    )
    assert message.header == "🟠 HIGH · Configuration error: 2 invalid settings"
    assert message.rule_id == "settings"
    assert message.account == "111122223333"
    assert message.details is not None
    assert "/warden/rules/iam-user-created/mode: must be one of" in message.details.text
    assert "/warden/organization_id: must be" in message.details.text
    assert "Rules now in alert mode: `iam-user-created`." in section(message, "What IAM Warden does meanwhile")
    assert "--name /warden/rules/iam-user-created/mode" in section(message, "How to fix it")
    assert message.record["problems"][0]["parameter"] == "/warden/rules/iam-user-created/mode"


def test_a_configuration_error_without_problems_carries_the_error() -> None:
    message = build_message(Notification(Outcome.CONFIGURATION_ERROR, error="GetParametersByPath: AccessDenied"))
    assert message.summary == "GetParametersByPath: AccessDenied"
    assert message.account == "unknown"
    assert message.details is None


def test_messages_are_deterministic_and_json_serialisable(example_settings: Settings) -> None:
    note = notification("bucket-policy-public-and-vendor.json", example_settings)
    first, second = build_message(note), build_message(note)
    assert first == second
    assert render_text(first) == render_text(second)
    record = json.loads(json.dumps(first.record))
    assert record["schema"] == "iamwarden.alert/1"
    assert record["finding"]["finding_id"] == record["finding"]["finding_id"]
    assert record["actor"]["principal_arn"] == "arn:aws:iam::111122223333:role/developer"


def test_plain_text_and_markdown_carry_everything(example_settings: Settings) -> None:
    message = build_message(notification("bucket-policy-unknown-account.json", example_settings))
    text, markdown = render_text(message), render_markdown(message)
    for needle in (
        "999988887777",
        "ShareWithVendor",
        "allow_resources",
        message.audit_ids["Finding"],
        "Why it is risky",
    ):
        assert needle in text
        assert needle in markdown
    assert text.startswith("[HIGH] Alert: Bucket policy shared with an untrusted account (bucket acme-exports)\n")
    assert (
        "[bucket acme-exports](https://s3.console.aws.amazon.com/s3/buckets/acme-exports?region=eu-west-1)" in markdown
    )


def test_long_details_are_clipped_with_a_pointer_in_plain_text(example_settings: Settings) -> None:
    note = notification("bucket-policy-public-read.json", example_settings)
    assert note.finding is not None
    statement = note.finding.offending[0]
    offending = tuple({**statement, "index": i, "sid": f"S{i}"} for i in range(400))
    text = render_text(build_message(note._replace(finding=note.finding._replace(offending=offending))))
    assert "truncated (" in text
    assert len(text) < 12_000


@pytest.mark.parametrize("limit", [10, 50, 200])
def test_clip_never_exceeds_its_limit(limit: int) -> None:
    assert len(clip("x" * 1000, limit)) <= limit
    assert clip("short", limit) == "short"


def test_other_offending_shapes_are_shown_as_json(example_settings: Settings) -> None:
    note = notification("attach-admin-to-role.json", example_settings)
    assert note.finding is not None
    odd: Finding = note.finding._replace(offending=({"something": "else"},), severity=Severity.LOW)
    message = build_message(note._replace(finding=odd))
    assert message.details is not None
    assert message.details.heading == "Details"
    assert message.badge == "🔵 LOW"


def test_the_accounts_block_public_access_is_named_as_such_not_as_a_bucket() -> None:
    from iamwarden.alerts.message import console_url, describe_resource

    arn = "arn:aws:s3::111122223333:public-access-block"
    assert describe_resource(arn) == "the Block Public Access settings of account 111122223333"
    assert console_url(arn, "us-east-1") is None
    assert describe_resource("arn:aws:s3:::acme-invoices") == "bucket acme-invoices"
    assert describe_resource("arn:aws:s3:::acme-invoices/report.csv") == "arn:aws:s3:::acme-invoices/report.csv"


def test_an_uncertain_finding_in_remediate_mode_says_what_was_not_known() -> None:
    from iamwarden.alerts.message import build_message
    from iamwarden.alerts.notifications import Notification
    from iamwarden.domain.catalog import Mode
    from iamwarden.domain.findings import Outcome
    from iamwarden.domain.settings import Settings
    from iamwarden.guardrails.engine import judge_event
    from tests.conftest import load_event

    judgement = judge_event(load_event("attach-admin-to-role.json"), Settings())
    finding = judgement.findings[0]._replace(mode=Mode.REMEDIATE, needs_context=("who owns vpce-0abc",))
    message = build_message(Notification(Outcome.ALERTED, finding, judgement.change, "r-1"))
    text = " ".join(line for section in message.sections for line in section.lines)
    assert "never remediates on a guess" in text
    assert "who owns vpce-0abc" in text
    assert message.record["needs_context"] == ["who owns vpce-0abc"]
    assert message.record["certain"] is False
