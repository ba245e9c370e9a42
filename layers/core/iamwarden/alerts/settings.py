"""Alert settings: who owns what (tag keys) and where each team's alerts go.

They live in the same SSM tree as every other setting, under ``alerts/``, so
the enforcer fetches them with the same ``GetParametersByPath`` call and hands
the same flat mapping to ``parse_alert_settings`` (``settings.parse_settings``
ignores the ``alerts/`` subtree). In a settings file the same keys are nested::

    alerts:
      owner_tag_keys: [owner, team]          # /iamwarden/alerts/owner_tag_keys
      teams:
        payments:
          slack_webhook_secret: iamwarden/slack/payments   # /iamwarden/alerts/teams/payments/slack_webhook_secret
          sns_topic_arn: arn:aws:sns:us-east-1:111122223333:payments-security

A team needs at least one destination. Team names compare case-insensitively
(``Payments`` in a tag routes to ``payments``). The security channel (the
central topic and Slack secret) is not a setting: the template creates it and
the enforcer reads it from its environment, so no parameter can silence it.

Invalid values are reported as ``SettingsProblem``s (the enforcer alerts on
them as configuration errors) and left out; the rest is used as given. A
problem never echoes a value that looks like a webhook URL.
"""

import json
import os
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from iamwarden.domain.exceptions import SettingsProblem

ROOT = "alerts"
DEFAULT_OWNER_TAG_KEYS: tuple[str, ...] = ("owner", "team")
#: The environment variables that name the security channel (set by template.yaml).
ENV_TOPIC = "IAMWARDEN_ALERT_TOPIC_ARN"
#: The last-resort topic (encrypted with the AWS-managed key): what the alert topic refuses goes there.
ENV_FALLBACK_TOPIC = "IAMWARDEN_ALERT_FALLBACK_TOPIC_ARN"
ENV_SLACK_SECRET = "IAMWARDEN_SLACK_WEBHOOK_SECRET"  # noqa: S105 - the variable's name, not a secret
#: The Slack app (issue 17): its bot token's secret, the security channel it posts to, and Slack's API URL (tests).
ENV_SLACK_BOT_SECRET = "IAMWARDEN_SLACK_BOT_SECRET"  # noqa: S105
ENV_SLACK_CHANNEL = "IAMWARDEN_SLACK_SECURITY_CHANNEL"
ENV_SLACK_API_URL = "IAMWARDEN_SLACK_API_URL"
DEFAULT_SLACK_BOT_SECRET = "iamwarden/slack/bot"  # noqa: S105 - the secret's name
SLACK_API_URL = "https://slack.com/api/"

#: Per-team settings: name -> documentation.
TEAM_KEYS: Mapping[str, str] = MappingProxyType(
    {
        "slack_webhook_secret": "name or ARN of the Secrets Manager secret that holds the team's Slack webhook URL",
        "sns_topic_arn": "ARN of an SNS topic (standard, not FIFO) that receives the team's alerts",
        "slack_channel": "Slack channel id (C…) the Slack app posts the team's alerts to, with buttons, when the "
        "bot token is set",
        "slack_users": "Slack user ids (U…, W…) of the team's members: they may act on their resources' alerts "
        "from Slack",
    }
)
#: Top-level alert settings: name -> documentation.
ALERT_KEYS: Mapping[str, str] = MappingProxyType(
    {
        "owner_tag_keys": "tag keys naming the owning team, tried in order on the resource and then on the caller",
        "teams": "team name -> its destinations (teams/<team>/slack_webhook_secret, teams/<team>/sns_topic_arn)",
    }
)

# The value patterns are compiled on first use (``re.fullmatch`` keeps them in re's cache): only a configured
# team, destination, user list or tag key is checked, and compiling all seven cost every cold start ~3 M
# instructions (README, Benchmarks).
TEAM_NAME = r"[a-z0-9][a-z0-9._-]{0,63}"
# A tag key: 1-128 letters, digits, spaces and _ . : / = + - @ (IAM and S3 accept the same set).
TAG_KEY = r"[\w .:/=+\-@]{1,128}"
SECRET_NAME = r"[A-Za-z0-9/_+=.@-]{1,512}"  # noqa: S105 - a pattern of secret names, not a secret
SECRET_ARN = r"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}"  # noqa: S105
SLACK_CHANNEL = r"[CG][A-Z0-9]{2,20}"
SLACK_USER = r"[UW][A-Z0-9]{2,20}"
TOPIC_ARN = r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?"


class Destination(NamedTuple):
    """Where one audience's alerts go: a Slack webhook secret, an SNS topic, or both."""

    #: Name or ARN of the Secrets Manager secret holding the Slack webhook URL (SSM key ``slack_webhook_secret``).
    slack_webhook: str | None = None
    sns_topic_arn: str | None = None
    #: Channel id the Slack app posts to with its bot token (messages with buttons), SSM key ``slack_channel``.
    slack_channel: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.slack_webhook or self.sns_topic_arn or self.slack_channel)


class AlertSettings(NamedTuple):
    owner_tag_keys: tuple[str, ...] = DEFAULT_OWNER_TAG_KEYS
    teams: Mapping[str, Destination] = MappingProxyType({})
    #: Team -> the Slack user ids of its members (``teams/<team>/slack_users``), for acting from Slack.
    slack_users: Mapping[str, frozenset[str]] = MappingProxyType({})

    def team_of_slack_user(self, user_id: str, team: str | None) -> bool:
        """Whether Slack user ``user_id`` is a member of ``team`` (case-insensitive team name)."""
        return bool(team) and user_id in self.slack_users.get((team or "").strip().lower(), frozenset())

    def destination_of(self, team: str | None) -> Destination | None:
        """The destinations of ``team`` (case-insensitive), or None when the team has none configured."""
        return self.teams.get(team.strip().lower()) if team else None


def parse_alert_settings(values: Mapping[str, Any]) -> tuple[AlertSettings, list[SettingsProblem]]:
    """Read the ``alerts/...`` keys of a flat (``a/b/c``) or nested mapping; other keys are ignored."""
    flat = _flatten(values)
    problems: list[SettingsProblem] = []
    tag_keys: tuple[str, ...] = DEFAULT_OWNER_TAG_KEYS
    teams: dict[str, dict[str, str]] = {}
    slack_users: dict[str, frozenset[str]] = {}

    for path in sorted(flat):
        parts = path.split("/")
        if parts[0] != ROOT:
            continue
        raw = flat[path]
        if path in (ROOT, f"{ROOT}/teams"):
            problems.append(SettingsProblem(path, _nesting_hint(path)))
        elif len(parts) == 2 and parts[1] == "owner_tag_keys":
            try:
                tag_keys = _tag_keys(raw)
            except ValueError as exc:
                problems.append(SettingsProblem(path, str(exc)))
        elif len(parts) == 4 and parts[1] == "teams":
            team, name = parts[2], parts[3]
            message = _team_problem(team, name, raw)
            if not message and name == "slack_users":
                try:
                    slack_users[team.lower()] = frozenset(_slack_users(raw))
                except ValueError as exc:
                    problems.append(SettingsProblem(path, str(exc)))
            elif message:
                problems.append(SettingsProblem(path, message))
            else:
                teams.setdefault(team.lower(), {})[name] = str(raw).strip()
        elif len(parts) >= 3 and parts[1] == "teams":
            problems.append(SettingsProblem(path, f"team settings are {ROOT}/teams/<team>/<setting>, one level deep"))
        else:
            problems.append(SettingsProblem(path, _unknown(parts[1], ALERT_KEYS, "alert setting")))

    destinations = {
        team: Destination(given.get("slack_webhook_secret"), given.get("sns_topic_arn"), given.get("slack_channel"))
        for team, given in sorted(teams.items())
    }
    settings = AlertSettings(
        owner_tag_keys=tag_keys, teams=MappingProxyType(destinations), slack_users=MappingProxyType(slack_users)
    )
    return settings, problems


def alert_settings_from_parameters(
    parameters: Mapping[str, str], prefix: str
) -> tuple[AlertSettings, list[SettingsProblem]]:
    """Read alert settings from SSM parameters named ``<prefix>/alerts/...``."""
    root = prefix.rstrip("/") + "/"
    return parse_alert_settings(
        {name[len(root) :]: value for name, value in parameters.items() if name.startswith(root)}
    )


def _team_problem(team: str, name: str, raw: Any) -> str | None:
    if not re.fullmatch(TEAM_NAME, team.lower()):
        return f"team name {team!r} must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
    if name not in TEAM_KEYS:
        return _unknown(name, TEAM_KEYS, f"setting of team {team}")
    if name == "slack_users":
        return None  # a list: checked by _slack_users
    if not isinstance(raw, str) or not raw.strip():
        return f"must be a non-empty string ({TEAM_KEYS[name]})"
    value = raw.strip()
    if name == "slack_webhook_secret":
        if "://" in value or value.lower().startswith("hooks."):
            # Never repeat the value: it is probably the webhook URL itself, which is a credential.
            return (
                "must name the Secrets Manager secret that holds the webhook URL, not the URL itself "
                "(the URL is a credential: store it in Secrets Manager, then delete this parameter's history)"
            )
        if not (re.fullmatch(SECRET_NAME, value) or re.fullmatch(SECRET_ARN, value)):
            return f"must be a Secrets Manager secret name or ARN, got {value!r}"
    elif name == "slack_channel":
        if not re.fullmatch(SLACK_CHANNEL, value):
            return f"must be a Slack channel id like C0123456789 (not its #name), got {value!r}"
    elif name == "sns_topic_arn":
        if not re.fullmatch(TOPIC_ARN, value):
            return f"must be an SNS topic ARN like arn:aws:sns:us-east-1:111122223333:team-alerts, got {value!r}"
        if value.endswith(".fifo"):
            return f"FIFO topics are not supported (alerts carry no message group), got {value!r}"
    return None


def _slack_users(raw: Any) -> list[str]:
    users = _string_list(raw)
    bad = [user for user in users if not re.fullmatch(SLACK_USER, user)]
    if bad:
        raise ValueError(f"must be Slack user ids (U…, W…), got {', '.join(map(repr, bad))}")
    return users


def _tag_keys(raw: Any) -> tuple[str, ...]:
    items = _string_list(raw)
    if not items:
        raise ValueError("must name at least one tag key, e.g. owner,team")
    bad = [item for item in items if not re.fullmatch(TAG_KEY, item)]
    if bad:
        raise ValueError(
            f"tag keys are 1-128 letters, digits, spaces and _ . : / = + - @, got {', '.join(map(repr, bad))}"
        )
    return tuple(dict.fromkeys(items))


def _string_list(raw: Any) -> list[str]:
    """A list, a JSON list string, or an SSM StringList (comma-separated)."""
    if isinstance(raw, str):
        text = raw.strip()
        if not text.startswith("["):
            return [item.strip() for item in text.split(",") if item.strip()]
        try:
            raw = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"is not a valid JSON list: {exc}") from exc
    if isinstance(raw, list) and all(isinstance(item, str) for item in raw):
        return [item.strip() for item in raw if item.strip()]
    raise ValueError(f"must be a list of strings, got {raw!r}")


def _flatten(values: Mapping[str, Any], parent: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in values.items():
        path = f"{parent}/{key}" if parent else str(key).strip("/")
        if isinstance(value, Mapping) and value:
            flat.update(_flatten(value, path))
        else:
            flat[path] = value
    return flat


def _nesting_hint(path: str) -> str:
    if path == ROOT:
        return "must map alert settings, e.g. alerts: {owner_tag_keys: [owner, team]}"
    return (
        "must map team names to destinations, e.g. teams: {payments: {slack_webhook_secret: iamwarden/slack/payments}}"
    )


def _unknown(name: str, known: Mapping[str, Any], what: str) -> str:
    import difflib  # noqa: PLC0415 - only a misspelt setting needs it (tests/unit/test_layers.py, LAZY_IMPORTS)

    close = difflib.get_close_matches(name, list(known), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(sorted(known))}"
    return f"unknown {what} {name!r}{hint}"


def security_destination(environ: Mapping[str, str] | None = None) -> Destination:
    """The security channel the template configures (the alert topic and Slack secret variables)."""
    env: Mapping[str, str] = os.environ if environ is None else environ
    return Destination(
        slack_webhook=env.get(ENV_SLACK_SECRET) or None,
        sns_topic_arn=env.get(ENV_TOPIC) or None,
        slack_channel=env.get(ENV_SLACK_CHANNEL) or None,
    )
