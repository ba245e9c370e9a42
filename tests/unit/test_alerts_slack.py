"""Slack rendering (limits, truncation, escaping) and webhook secrets, without a network."""

from __future__ import annotations

import json
from typing import Any

import pytest
from slack_sdk.errors import SlackObjectFormationError

from iamwarden.adapters import slack
from iamwarden.adapters.slack import (
    FIELD_LIMIT,
    HEADER_LIMIT,
    SECTION_LIMIT,
    SecretWebhookUrls,
    escape,
    fit,
    render_slack,
    retry_after,
)
from iamwarden.alerts.exceptions import SlackNotConfiguredError, WebhookSecretError
from iamwarden.alerts.message import AlertMessage, Fact, build_message
from iamwarden.alerts.notifications import Notification
from iamwarden.domain.findings import Outcome
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import load_event


def message_for(event: str, settings: Settings, **finding_changes: Any) -> AlertMessage:
    judgement = judge_event(load_event(event), settings)
    finding = judgement.findings[0]._replace(**finding_changes)
    return build_message(Notification(Outcome.ALERTED, finding, judgement.change))


def texts(payload: dict[str, Any]) -> list[str]:
    found = []
    for block in payload["blocks"]:
        if isinstance(block.get("text"), dict):
            found.append(block["text"]["text"])
        found.extend(field["text"] for field in block.get("fields", ()))
        found.extend(element["text"] for element in block.get("elements", ()))
    return found


def within_limits(payload: dict[str, Any]) -> None:
    assert len(payload["blocks"]) <= 50
    for block in payload["blocks"]:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= HEADER_LIMIT
        if block["type"] == "section" and "text" in block:
            assert len(block["text"]["text"]) <= SECTION_LIMIT
        assert len(block.get("fields", ())) <= 10
        assert all(len(field["text"]) <= FIELD_LIMIT for field in block.get("fields", ()))
        assert len(block.get("elements", ())) <= 10


def test_a_20_kb_policy_stays_within_slacks_limits(example_settings: Settings) -> None:
    judgement = judge_event(load_event("bucket-policy-public-read.json"), example_settings)
    statement = judgement.findings[0].offending[0]
    offending = tuple(
        {
            **statement,
            "index": i,
            "sid": f"Statement{i}",
            "statement": {**statement["statement"], "Sid": f"Statement{i}"},
        }
        for i in range(150)
    )
    assert len(json.dumps(offending)) > 20_000
    payload = render_slack(message_for("bucket-policy-public-read.json", example_settings, offending=offending))
    within_limits(payload)
    [details] = [text for text in texts(payload) if "Offending statements" in text]
    assert "(truncated)" in details
    assert "more characters); the full text is in the JSON alert on the security SNS topic" in details


def test_event_text_cannot_mention_people_or_inject_links(example_settings: Settings) -> None:
    message = message_for(
        "attach-admin-to-role.json",
        example_settings,
        reason="Policy <!channel> & <https://evil.example|click here> attached",
    )
    payload = render_slack(message)
    rendered = json.dumps(payload)
    assert "<!channel>" not in rendered
    assert "<https://evil.example" not in rendered
    assert "Policy &lt;!channel&gt; &amp; &lt;https://evil.example|click here&gt; attached" in texts(payload)


def test_a_huge_reason_is_cut_with_a_pointer(example_settings: Settings) -> None:
    payload = render_slack(message_for("attach-admin-to-role.json", example_settings, reason="<&>" * 5000))
    within_limits(payload)
    summary = payload["blocks"][1]["text"]["text"]
    assert "truncated (" in summary
    assert len(payload["text"]) <= 500


def test_fit_never_cuts_an_escape_in_half() -> None:
    for size in range(40, 80):
        cut = fit("&" * 200, size)
        assert len(cut) <= size
        head = cut.split("\n")[0]
        assert head == "&amp;" * (len(head) // 5)


def test_escape() -> None:
    assert escape("a<b>&c") == "a&lt;b&gt;&amp;c"


def test_a_long_header_is_cut_to_150_characters(example_settings: Settings) -> None:
    message = message_for("attach-admin-to-role.json", example_settings)
    long = message._replace(title="x" * 400)
    header = render_slack(long)["blocks"][0]["text"]["text"]
    assert len(header) == HEADER_LIMIT
    assert header.endswith("…")


def test_more_than_ten_facts_are_split_across_sections(example_settings: Settings) -> None:
    message = message_for("attach-admin-to-role.json", example_settings)
    many = message._replace(facts=tuple(Fact(f"F{i}", "v" * 3000) for i in range(23)))
    payload = render_slack(many)
    within_limits(payload)
    assert sum(len(block.get("fields", ())) for block in payload["blocks"]) == 23


def test_a_layout_slack_would_reject_falls_back_to_the_short_form(
    example_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = message_for("attach-admin-to-role.json", example_settings)

    def broken(_: AlertMessage) -> list[Any]:
        raise SlackObjectFormationError("fields attribute cannot exceed 10 items")

    monkeypatch.setattr(slack, "_blocks", broken)
    payload = render_slack(message)
    assert len(payload["blocks"]) == 2
    assert "too large to show here in full" in payload["blocks"][1]["text"]["text"]


def test_too_many_blocks_fall_back_to_the_short_form(example_settings: Settings) -> None:
    message = message_for("attach-admin-to-role.json", example_settings)
    crowded = message._replace(sections=message.sections * 20)
    payload = render_slack(crowded)
    assert len(payload["blocks"]) == 2


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": ["7"]}, 7.0),
        ({"retry-after": "2.5"}, 2.5),
        ({}, 1.0),
        ({"Retry-After": ["soon"]}, 1.0),
        ({"Retry-After": ["-3"]}, 0.0),
        ({"Retry-After": ["Wed, 21 Oct 2015 07:28:00 GMT"]}, 0.0),
        ({"Retry-After": ["nan"]}, 1.0),
    ],
)
def test_retry_after(headers: dict[str, Any], seconds: float) -> None:
    assert retry_after(headers) == seconds


class FakeProvider:
    def __init__(self, value: Any = None, error: Exception | None = None) -> None:
        self.value = value
        self.error = error
        self.calls: list[tuple[str, int | None, bool]] = []

    def get(self, name: str, max_age: int | None = None, transform: Any = None, force_fetch: bool = False) -> Any:
        self.calls.append((name, max_age, force_fetch))
        if self.error:
            raise self.error
        return self.value


URL = "https://hooks.slack.com/services/T000/B000/s3cr3t"


@pytest.mark.parametrize(
    "value",
    [URL, f"  {URL}\n", json.dumps({"url": URL}), URL.encode(), "http://127.0.0.1:8080/hook"],
)
def test_a_secret_holds_the_url_or_a_json_object_with_url(value: Any) -> None:
    expected = "http://127.0.0.1:8080/hook" if "127.0.0.1" in str(value) else URL
    assert SecretWebhookUrls(provider=FakeProvider(value)).url("iamwarden/slack/security") == expected


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("http://hooks.slack.com/services/T000/B000/s3cr3t", "does not hold an https:// URL"),
        ("hooks.slack.com/services/T000/B000/s3cr3t", "does not hold an https:// URL"),
        ('{"url": ', "is not JSON"),
        (json.dumps({"webhook": URL}), 'without a "url" string'),
        (json.dumps(["x"]), "does not hold an https:// URL"),
        (json.dumps({"url": 5}), 'without a "url" string'),
        (b"\xff\xfe", "is binary"),
    ],
)
def test_a_bad_secret_is_reported_without_its_value(value: Any, error: str) -> None:
    with pytest.raises(WebhookSecretError, match=error) as raised:
        SecretWebhookUrls(provider=FakeProvider(value)).url("iamwarden/slack/security")
    assert "s3cr3t" not in str(raised.value)
    assert "iamwarden/slack/security" in str(raised.value)


@pytest.mark.parametrize("value", ["", "  ", "REPLACE-ME: put the Slack webhook URL here"])
def test_an_empty_or_placeholder_secret_means_slack_is_not_set_up(value: str) -> None:
    with pytest.raises(SlackNotConfiguredError, match="holds no webhook URL yet"):
        SecretWebhookUrls(provider=FakeProvider(value)).url("iamwarden/slack/security")


def test_the_template_s_placeholder_is_recognised_as_not_set_up() -> None:
    from tests.sam_template import source_template

    secret = source_template()["Resources"]["SecuritySlackWebhookSecret"]["Properties"]["SecretString"]
    with pytest.raises(SlackNotConfiguredError):
        SecretWebhookUrls(provider=FakeProvider(secret)).url("iamwarden/slack/security")


def test_an_unreadable_secret_is_a_webhook_secret_error() -> None:
    provider = FakeProvider(error=RuntimeError("ResourceNotFoundException: can't find the specified secret"))
    with pytest.raises(WebhookSecretError, match="cannot read Slack webhook secret iamwarden/slack/x: Resource"):
        SecretWebhookUrls(provider=provider).url("iamwarden/slack/x")


def test_secrets_are_cached_for_max_age_and_refetched_after_invalidate() -> None:
    provider = FakeProvider(URL)
    urls = SecretWebhookUrls(provider=provider, max_age=120)
    urls.url("s")
    urls.invalidate("s")
    urls.url("s")
    urls.url("s")
    assert provider.calls == [("s", 120, False), ("s", 120, True), ("s", 120, False)]


def test_without_a_factory_or_provider_secrets_cannot_be_read() -> None:
    with pytest.raises(WebhookSecretError, match="no AWS client factory"):
        SecretWebhookUrls().url("s")
