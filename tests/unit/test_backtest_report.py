"""What a backtest reports: outcomes per finding, needs-context, allowlist suggestions, comparison, HTML."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import pytest

from iamwarden.alerts.message import build_message
from iamwarden.alerts.notifications import Notification
from iamwarden.backtest.app.run import Judging, judge_events
from iamwarden.backtest.domain.authorization import AuthorizationDetails, AuthorizationDetailsError
from iamwarden.backtest.domain.html import render_html
from iamwarden.backtest.domain.records import Event, Problem
from iamwarden.backtest.domain.report import (
    NEEDS_CONTEXT,
    REJECTED,
    WOULD_ALERT,
    WOULD_REMEDIATE,
    Report,
    Row,
    compare,
    jsonl_rows,
    render_summary,
    rows_of,
    suggest_allowlist,
)
from iamwarden.domain.findings import Outcome
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import load_event


def rows(name: str, settings: Settings) -> list[Row]:
    return rows_of(name, judge_event(load_event(name), settings))


def test_remediate_mode_with_a_plan_would_remediate(example_settings: Settings) -> None:
    [row] = rows("create-user-backdoor-cli.json", example_settings)
    assert (row.outcome, row.rule, row.resource) == (
        WOULD_REMEDIATE,
        "iam-user-created",
        "arn:aws:iam::111122223333:user/backdoor-admin",
    )
    assert row.actor == "arn:aws:iam::111122223333:user/alice"
    assert row.actions
    assert row.day == "2026-11-21"


def test_alert_mode_and_break_glass_would_alert(example_settings: Settings) -> None:
    assert [r.outcome for r in rows("attach-admin-to-role.json", example_settings)] == [WOULD_ALERT]
    assert [r.outcome for r in rows("create-user-break-glass.json", example_settings)] == [WOULD_ALERT]
    assert [r.outcome for r in rows("create-user-backdoor-cli.json", Settings())] == [WOULD_ALERT]


def test_unjudged_customer_managed_policy_needs_context_never_remediate(example_settings: Settings) -> None:
    attach = rows("attach-customer-managed.json", example_settings)
    assert {r.outcome for r in attach} == {NEEDS_CONTEXT}
    # iamwarden-tampered judges every role attachment too (is the role IAM Warden's?); the report lists a
    # needs-context row for each rule the event's judgement names.
    judged = {"privilege-escalation", "managed-policy-attached", "iamwarden-tampered"}
    assert {r.rule for r in attach} == judged & {r.rule for r in attach}
    default = rows("set-default-policy-version.json", example_settings)
    assert [r.outcome for r in default]
    assert {r.outcome for r in default} == {NEEDS_CONTEXT}
    assert all(r.reason.startswith("cannot judge: ") for r in attach + default)


def test_compliant_and_ignored_changes_give_no_rows(example_settings: Settings) -> None:
    basic = load_event("attach-lambda-basic-execution.json")
    policy = basic["detail"]["requestParameters"]["policyArn"]
    logs = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}]}
    snapshot = {
        "RoleDetailList": [{"Arn": "arn:aws:iam::111122223333:role/orders-function-role"}],  # the account it describes
        "Policies": [
            {"Arn": policy, "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": True, "Document": logs}]}
        ],
    }
    judging = Judging(example_settings, documents=AuthorizationDetails.from_documents([("auth.json", snapshot)]))
    assert judge_events([Event("attach-lambda-basic-execution.json", basic)], judging).rows == []
    assert rows("create-user-access-denied.json", example_settings) == []


def test_an_aws_managed_attachment_needs_its_document_to_be_judged(example_settings: Settings) -> None:
    """privilege-escalation judges it on the principal's whole power: without the document, it cannot."""
    attach = rows("attach-lambda-basic-execution.json", example_settings)
    assert attach
    assert {r.outcome for r in attach} == {NEEDS_CONTEXT}


def test_forged_event_is_rejected(example_settings: Settings) -> None:
    [row] = rows("create-user-forged-cross-account.json", example_settings)
    assert row.outcome == REJECTED


def details(
    document: dict[str, Any], arn: str = "arn:aws:iam::111122223333:policy/app-s3-read"
) -> AuthorizationDetails:
    return AuthorizationDetails.from_documents(
        [
            (
                "auth.json",
                {
                    "Policies": [
                        {
                            "Arn": arn,
                            "DefaultVersionId": "v2",
                            "PolicyVersionList": [
                                {"VersionId": "v2", "IsDefaultVersion": True, "Document": document},
                                {"VersionId": "v1", "IsDefaultVersion": False, "Document": "%7B%7D"},
                            ],
                        }
                    ]
                },
            )
        ]
    )


ESCALATION = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}]}


def test_authorization_details_let_the_rule_judge(example_settings: Settings) -> None:
    event = Event("attach-customer-managed.json", load_event("attach-customer-managed.json"))
    with_details = judge_events([event], Judging(example_settings, documents=details(ESCALATION)))
    assert {row.outcome for row in with_details.rows} == {WOULD_ALERT}
    assert "privilege-escalation" in {row.rule for row in with_details.rows}
    harmless = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    assert judge_events([event], Judging(example_settings, documents=details(harmless))).rows == []


def test_authorization_details_of_another_account_leave_it_needing_context(example_settings: Settings) -> None:
    event = Event("attach-customer-managed.json", load_event("attach-customer-managed.json"))
    other = details(ESCALATION, arn="arn:aws:iam::999988887777:policy/app-s3-read")
    result = judge_events([event], Judging(example_settings, documents=other))
    assert {row.outcome for row in result.rows} == {NEEDS_CONTEXT}


def test_authorization_details_that_are_not_are_refused(tmp_path: Any) -> None:
    with pytest.raises(AuthorizationDetailsError, match="no 'Policies' list"):
        AuthorizationDetails.from_documents([("x.json", {"Roles": []})])
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(AuthorizationDetailsError, match=r"bad\.json: not valid JSON"):
        AuthorizationDetails.from_files([bad])


def row(
    outcome: str = WOULD_ALERT, rule: str = "iam-user-created", actor: str = "a", resource: str = "r", n: int = 0
) -> Row:
    return Row(
        outcome,
        rule,
        "high",
        "111122223333",
        "us-east-1",
        f"2026-11-0{n % 9 + 1}T00:00:00Z",
        actor,
        resource,
        f"e{n}",
        "CreateUser",
        "why",
        "f",
    )


def test_suggestions_name_the_parameter_exactly_as_the_alert_does(example_settings: Settings) -> None:
    judgement = judge_event(load_event("attach-admin-to-role.json"), example_settings)
    message = build_message(Notification(Outcome.ALERTED, judgement.findings[0], judgement.change))
    exception = message.record["exception"]
    found = rows_of("x", judgement)
    suggestions = suggest_allowlist(found + [r._replace(event_id="again") for r in found], "/iamwarden")
    by_kind = {s.kind: s for s in suggestions}
    assert (by_kind["actor"].parameter, by_kind["actor"].value) == (
        exception["actor_parameter"],
        exception["actor_value"],
    )
    assert (by_kind["resource"].parameter, by_kind["resource"].value) == (
        exception["resource_parameter"],
        exception["resource_value"],
    )


def test_suggestions_are_the_actors_behind_most_findings_only() -> None:
    found = [row(actor="terraform", n=i) for i in range(6)] + [
        row(actor=f"person-{i}", resource=f"r{i}", n=i) for i in range(4)
    ]
    found += [row(NEEDS_CONTEXT, actor="ctx", n=i) for i in range(20)]
    suggestions = suggest_allowlist(found, "/custom/")
    assert [(s.kind, s.value, s.findings, s.parameter) for s in suggestions] == [
        ("actor", "terraform", 6, "/custom/rules/iam-user-created/allow_actors"),
        ("resource", "r", 6, "/custom/rules/iam-user-created/allow_resources"),
    ]
    assert suggestions[0].share == pytest.approx(0.6)


def test_compare_lists_findings_that_appear_disappear_and_change() -> None:
    base = [row(n=1), row(n=2), row(WOULD_ALERT, n=3)]
    other = [row(n=2), row(WOULD_REMEDIATE, n=3), row(n=4)]
    comparison = compare(base, other, "strict.yaml")
    assert [r.event_id for r in comparison.appeared] == ["e4"]
    assert [r.event_id for r in comparison.disappeared] == ["e1"]
    assert [(a.outcome, b.outcome) for a, b in comparison.changed] == [(WOULD_ALERT, WOULD_REMEDIATE)]


def report(**changes: Any) -> Report:
    found = [row(actor="terraform", n=i) for i in range(5)] + [
        row(WOULD_REMEDIATE, rule="s3-acl-public", resource="arn:aws:s3:::b<x>", n=7)
    ]
    base = Report(
        settings="settings.yaml",
        sources=("history/",),
        counts=Counter({"files": 3, "records": 100, "in scope": 6}),
        verdicts=Counter({"violation": 6}),
        rows=found,
        problems=[Problem("history/x.json.gz", "truncated gzip: the file ends before its compressed stream does")],
    )
    return base._replace(**changes)


def test_summary_has_rules_accounts_actors_resources_and_suggestions() -> None:
    text = render_summary(report(comparison=compare(report().rows, report().rows[1:], "other.yaml")))
    assert re.search(r"iam-user-created\s+0\s+5\s+0\s+0", text)
    assert re.search(r"s3-acl-public\s+1\s+0\s+0\s+0", text)
    assert re.search(r"111122223333\s+1\s+5\s+0\s+0", text)
    assert "5  terraform" in text
    assert "add terraform to /iamwarden/rules/iam-user-created/allow_actors" in text
    assert "Could not read" not in text  # no file or record was counted unreadable
    assert "Compared with other.yaml: 0 findings appear, 1 disappear, 0 change outcome" in text


def test_jsonl_has_every_finding_and_the_comparison() -> None:
    comparison = compare(report().rows, report().rows[1:], "other.yaml")
    lines = list(jsonl_rows(report(comparison=comparison)))
    assert len(lines) == 7
    assert lines[0]["outcome"] == WOULD_ALERT
    assert lines[0]["source"] == "f"
    assert lines[-1]["compare"] == "disappears"
    assert lines[-1]["settings"] == "other.yaml"
    json.dumps(lines)


def test_html_is_self_contained_escaped_and_carries_the_timeline_data() -> None:
    html = render_html(report(comparison=compare(report().rows, [], "other.yaml")))
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # no external asset
    assert "<script src" not in html
    assert "<link" not in html
    assert "arn:aws:s3:::b&lt;x&gt;" in html
    assert "b<x>" not in html
    data = json.loads(re.search(r'id="backtest-data">(.*?)</script>', html, re.S)[1])  # type: ignore[index]
    assert data["rules"] == ["iam-user-created", "s3-acl-public"]
    assert data["days"][0] == "2026-11-01"
    assert data["days"][-1] == "2026-11-08"
    assert data["timeline"]["2026-11-08"] == {"s3-acl-public": 1}
    assert "/iamwarden/rules/iam-user-created/allow_actors" in html
    assert "truncated gzip" in html
    assert 'id="comparison"' in html


def test_html_json_cannot_close_its_script() -> None:
    html = render_html(report(rows=[row(rule="</script><script>alert(1)</script>")]))
    assert "</script><script>alert(1)" not in html
