"""Slack interactions without AWS: the buttons on each alert, the signature check, the click reader, who may act."""

from __future__ import annotations

import json
from typing import Any

import pytest
from slack_sdk.signature import Clock, SignatureVerifier

from iamwarden.adapters.slack import interaction_blocks, render_slack
from iamwarden.alerts.interactions import (
    ACTION_ACKNOWLEDGE,
    ACTION_REQUEST_EXCEPTION,
    ACTION_UNDO,
    ACTION_UNDO_WITH_EXCEPTION,
    ACTIONS_BLOCK_ID,
    Click,
    Permissions,
    Rejected,
    SlackRequest,
    click_of,
    replaced_message,
    verify,
)
from iamwarden.alerts.settings import AlertSettings, parse_alert_settings
from iamwarden.domain.findings import Outcome
from iamwarden.domain.settings import SlackSettings, parse_slack_settings
from tools.render_alert_docs import EXAMPLES, message_of

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # noqa: S105 - a test signing secret
NOW = 1_531_420_618


def example(kind: str) -> Any:
    return message_of(next(item for item in EXAMPLES if item.kind == kind))


def elements(kind: str) -> list[dict[str, Any]]:
    blocks = [block.to_dict() for block in interaction_blocks(example(kind))]
    if not blocks:
        return []
    [actions] = blocks
    assert actions["block_id"] == ACTIONS_BLOCK_ID
    return list(actions["elements"])


# --- the buttons -----------------------------------------------------------------------------------------


def test_a_remediated_alert_offers_undo_undo_and_exempt_request_exception_and_acknowledge() -> None:
    found = elements("remediated")
    assert [element["action_id"] for element in found] == [
        ACTION_UNDO,
        ACTION_UNDO_WITH_EXCEPTION,
        ACTION_REQUEST_EXCEPTION,
        ACTION_ACKNOWLEDGE,
    ]
    undo = found[0]
    assert undo["style"] == "danger"
    assert undo["confirm"]["confirm"]["text"] == "Undo"
    remediation_id = example("remediated").record["remediation_id"]
    assert json.loads(undo["value"])["r"] == remediation_id
    assert [option["value"] for option in found[1]["options"]] == [f"{days}|{remediation_id}" for days in (1, 3, 7)]


def test_a_remediation_that_cannot_be_undone_offers_no_undo() -> None:
    assert [element["action_id"] for element in elements("remediated-user-deleted")] == [
        ACTION_REQUEST_EXCEPTION,
        ACTION_ACKNOWLEDGE,
    ]


def test_an_alerted_finding_offers_an_exception_and_acknowledge_a_break_glass_change_only_acknowledge() -> None:
    assert [element["action_id"] for element in elements("alerted")] == [ACTION_REQUEST_EXCEPTION, ACTION_ACKNOWLEDGE]
    assert [element["action_id"] for element in elements("noteworthy-break-glass")] == [ACTION_ACKNOWLEDGE]


@pytest.mark.parametrize("kind", ["configuration-error", "rejected-forged-event", "circuit-breaker-tripped"])
def test_messages_about_no_finding_have_no_buttons(kind: str) -> None:
    assert elements(kind) == []


def test_a_button_value_carries_the_owner_team_the_alert_was_routed_to() -> None:
    owned = [item for item in EXAMPLES if item.owner is not None and item.outcome is Outcome.ALERTED]
    assert owned, "an example with an owner team"
    owner = owned[0].owner
    assert owner is not None
    message = message_of(owned[0])
    [actions] = interaction_blocks(message)
    value = json.loads(actions.to_dict()["elements"][0]["value"])
    assert value == {"r": message.record["remediation_id"], "team": owner.team}


def test_the_webhook_payload_has_no_buttons_the_app_payload_ends_with_them() -> None:
    message = example("remediated")
    plain = render_slack(message)
    app = render_slack(message, interactive=True)
    assert all(block["type"] != "actions" for block in plain["blocks"])
    assert app["blocks"][:-1] == plain["blocks"]
    assert app["blocks"][-1]["block_id"] == ACTIONS_BLOCK_ID


def test_after_a_click_the_buttons_give_way_to_who_did_what() -> None:
    blocks = render_slack(example("remediated"), interactive=True)["blocks"]
    replaced = replaced_message(blocks, "Acknowledged by <@U1>.")
    assert replaced["replace_original"] is True
    assert replaced["blocks"][:-1] == blocks[:-1]
    assert replaced["blocks"][-1] == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": "Acknowledged by <@U1>."}],
    }


# --- the signature ---------------------------------------------------------------------------------------


def signed(body: str, timestamp: int = NOW, secret: str = SECRET) -> SlackRequest:
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(timestamp), body=body)
    assert signature is not None
    return SlackRequest({"x-slack-request-timestamp": str(timestamp), "x-slack-signature": signature}, body)


class FixedClock(Clock):
    def now(self) -> float:
        return NOW + 299


def test_a_request_signed_as_slack_sdk_signs_it_is_accepted() -> None:
    request = signed("payload=%7B%7D")
    assert verify(request, SECRET, NOW + 299) == request.headers["x-slack-signature"]
    # slack_sdk's own verifier agrees with ours.
    assert SignatureVerifier(SECRET, clock=FixedClock()).is_valid(
        request.body, request.headers["x-slack-request-timestamp"], request.headers["x-slack-signature"]
    )


@pytest.mark.parametrize(
    ("request_", "now", "reason"),
    [
        (signed("payload=%7B%7D", secret="other"), NOW, "bad signature"),
        (signed("payload=%7B%7D"), NOW + 301, "stale request"),
        (signed("payload=%7B%7D"), NOW - 301, "stale request"),  # from the future: a clock trick, refused too
        (SlackRequest({"x-slack-request-timestamp": "soon", "x-slack-signature": "v0=1"}, ""), NOW, "not a number"),
        (SlackRequest({"x-slack-signature": "v0=1"}, ""), NOW, "unsigned request"),
        (SlackRequest({"x-slack-request-timestamp": str(NOW)}, ""), NOW, "unsigned request"),
    ],
)
def test_unsigned_stale_and_badly_signed_requests_are_rejected_with_401(
    request_: SlackRequest, now: int, reason: str
) -> None:
    with pytest.raises(Rejected) as raised:
        verify(request_, SECRET, now)
    assert raised.value.status == 401
    assert reason in raised.value.reason


def test_the_signature_covers_the_timestamp() -> None:
    request = signed("payload=%7B%7D")
    moved = SlackRequest({**request.headers, "x-slack-request-timestamp": str(NOW + 10)}, request.body)
    with pytest.raises(Rejected, match="bad signature"):
        verify(moved, SECRET, NOW)


# --- who may do what -------------------------------------------------------------------------------------


class Groups:
    def __init__(self, members: dict[str, frozenset[str]], fail: bool = False) -> None:
        self.members = members
        self.fail = fail
        self.asked: list[str] = []

    def group_members(self, group_id: str) -> frozenset[str]:
        self.asked.append(group_id)
        if self.fail:
            raise RuntimeError("usergroups.users.list: missing_scope")
        return self.members.get(group_id, frozenset())


def permissions(owners_may_undo: bool = False, groups: Groups | None = None) -> Permissions:
    alerts, problems = parse_alert_settings({"alerts": {"teams": {"payments": {"slack_users": "UOWNER"}}}})
    assert problems == []
    return Permissions(SlackSettings(frozenset({"UAPPROVER", "SSECURITY"}), owners_may_undo), alerts, groups)


def click(action: str, user: str, team: str | None = "payments") -> Click:
    return Click(action, user, user.lower(), "T1", remediation_id="rem-1", owner_team=team)


@pytest.mark.parametrize(
    ("action", "user", "owners_may_undo", "allowed"),
    [
        (ACTION_UNDO, "UAPPROVER", False, True),
        (ACTION_UNDO_WITH_EXCEPTION, "UAPPROVER", False, True),
        (ACTION_UNDO, "UOWNER", False, False),
        (ACTION_UNDO, "UOWNER", True, True),
        (ACTION_UNDO_WITH_EXCEPTION, "UOWNER", True, False),
        (ACTION_REQUEST_EXCEPTION, "UOWNER", False, True),
        (ACTION_ACKNOWLEDGE, "UOWNER", False, True),
        (ACTION_REQUEST_EXCEPTION, "USTRANGER", True, False),
        (ACTION_ACKNOWLEDGE, "USTRANGER", True, False),
        (ACTION_UNDO, "USTRANGER", True, False),
    ],
)
def test_who_may_do_what(action: str, user: str, owners_may_undo: bool, allowed: bool) -> None:
    assert permissions(owners_may_undo).may(click(action, user), "s3-bucket-policy-public")[0] is allowed


@pytest.mark.parametrize("rule", ["iam-user-created", "iamwarden-tampered", "inline-policy-admin", None])
def test_an_owner_may_not_undo_what_an_intruder_would_want_undone_nor_an_unknown_rule(rule: str | None) -> None:
    allowed, why = permissions(owners_may_undo=True).may(click(ACTION_UNDO, "UOWNER"), rule)
    assert allowed is False
    assert why.startswith("only approvers may undo a remediation of")
    assert permissions(owners_may_undo=True).may(click(ACTION_UNDO, "UAPPROVER"), rule)[0] is True


def test_the_owner_of_another_team_is_no_owner_team_names_compare_case_insensitively() -> None:
    rules = permissions(owners_may_undo=True)
    everyday = "s3-bucket-policy-public"
    assert rules.may(click(ACTION_UNDO, "UOWNER", team="platform"), everyday)[0] is False
    assert rules.may(click(ACTION_UNDO, "UOWNER", team="Payments"), everyday)[0] is True
    assert rules.may(click(ACTION_UNDO, "UOWNER", team=None), everyday)[0] is False


def test_a_member_of_an_approver_group_is_an_approver_a_group_that_cannot_be_read_grants_nothing() -> None:
    groups = Groups({"SSECURITY": frozenset({"UMEMBER"})})
    assert permissions(groups=groups).may(click(ACTION_UNDO, "UMEMBER"))[0] is True
    assert groups.asked == ["SSECURITY"]
    assert permissions(groups=Groups({}, fail=True)).may(click(ACTION_UNDO, "UMEMBER"))[0] is False
    assert permissions(groups=None).may(click(ACTION_UNDO, "UMEMBER"))[0] is False


# --- reading clicks --------------------------------------------------------------------------------------


def test_an_undo_and_exempt_choice_is_read_from_the_selected_option() -> None:
    payload = {
        "type": "block_actions",
        "user": {"id": "U1", "username": "ann"},
        "team": {"id": "T1"},
        "actions": [{"action_id": ACTION_UNDO_WITH_EXCEPTION, "selected_option": {"value": "3|rem-9"}}],
    }
    read = click_of(payload)
    assert (read.action, read.remediation_id, read.days, read.who) == (
        ACTION_UNDO_WITH_EXCEPTION,
        "rem-9",
        3,
        "slack:T1/U1",
    )
    payload["actions"] = [{"action_id": ACTION_UNDO_WITH_EXCEPTION, "selected_option": {"value": "soon|rem-9"}}]
    with pytest.raises(Rejected, match="without days"):
        click_of(payload)


# --- settings --------------------------------------------------------------------------------------------


def test_slack_settings_default_to_no_approvers_and_owners_may_not_undo() -> None:
    assert parse_slack_settings({}) == (SlackSettings(), [])


def test_slack_settings_are_read_from_ssm_shaped_values() -> None:
    settings, problems = parse_slack_settings({"slack/approvers": "U123,S456,W789", "slack/owners_may_undo": "on"})
    assert problems == []
    assert settings == SlackSettings(frozenset({"U123", "S456", "W789"}), True)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"slack/approvers": "U123,#security,@ann"}, "got '#security', '@ann'"),
        ({"slack/owners_may_undo": "sometimes"}, "must be on or off"),
        ({"slack/approver": "U1"}, "did you mean 'approvers'"),
    ],
)
def test_invalid_slack_settings_fall_back_safely_and_are_reported(values: dict[str, str], message: str) -> None:
    settings, [problem] = parse_slack_settings(values)
    assert message in problem.message
    assert settings.owners_may_undo is False
    assert settings.approvers <= {"U123"}


def test_team_slack_users_and_channel_are_read_and_checked() -> None:
    alerts, problems = parse_alert_settings(
        {
            "alerts/teams/payments/slack_users": "UOWNER,WOTHER",
            "alerts/teams/payments/slack_channel": "C0123ABC",
            "alerts/teams/platform/slack_users": "ann",
            "alerts/teams/platform/slack_channel": "#platform",
        }
    )
    assert alerts.slack_users["payments"] == {"UOWNER", "WOTHER"}
    destination = alerts.destination_of("payments")
    assert destination is not None
    assert destination.slack_channel == "C0123ABC"
    assert sorted(problem.key for problem in problems) == [
        "alerts/teams/platform/slack_channel",
        "alerts/teams/platform/slack_users",
    ]
    assert AlertSettings().team_of_slack_user("UOWNER", "payments") is False
