"""Render one alert of each kind into docs/alerts/, from the real sample events in events/.

    .venv/bin/python tools/render_alert_docs.py           # rewrite docs/alerts/
    .venv/bin/python tools/render_alert_docs.py --check   # exit 1 if docs/alerts/ is out of date

For each kind it writes the exact Slack webhook payload (``<kind>.slack.json``,
paste its ``blocks`` into Slack's Block Kit Builder to see it), a Markdown
preview (``<kind>.md``) and the readable SNS/e-mail text (``<kind>.sns.txt``).
The findings come from judging the sample events with events/settings.yaml;
the account alias, owner teams, the enforcer's action lines and the failure
text are the example inputs listed in ``EXAMPLES``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "core"))

from iamwarden.adapters.slack import interaction_blocks, render_slack  # noqa: E402
from iamwarden.alerts.message import AlertMessage, Owner, build_message  # noqa: E402
from iamwarden.alerts.notifications import Notification  # noqa: E402
from iamwarden.alerts.render import render_markdown, render_text  # noqa: E402
from iamwarden.app.executor import remediation_id_of  # noqa: E402
from iamwarden.domain.findings import Outcome  # noqa: E402
from iamwarden.domain.settings import flatten, load_settings, parse_settings  # noqa: E402
from iamwarden.guardrails.engine import judge_event  # noqa: E402

EVENTS = ROOT / "events"
DOCS = ROOT / "docs" / "alerts"
ALIAS = "acme-prod"


class Example(NamedTuple):
    kind: str
    description: str
    event: str | None
    outcome: Outcome
    settings: Mapping[str, Any] = {}
    actions: tuple[str, ...] = ()
    error: str | None = None
    undoable: bool = True
    owner: Owner | None = None
    owner_routed: bool = False
    problems_from: Mapping[str, Any] | None = None


EXAMPLES = (
    Example(
        "alerted",
        "alert mode: AdministratorAccess attached to a role; nothing changed, the message says what remediate "
        "mode would do",
        "attach-admin-to-role.json",
        Outcome.ALERTED,
        owner=Owner("payments", "tag team on role app-backend"),
        owner_routed=True,
    ),
    Example(
        "remediated",
        "remediate mode: a new IAM user quarantined, with the undo command",
        "create-user-backdoor-cli.json",
        Outcome.REMEDIATED,
        actions=(
            "attached the deny-all inline policy iamwarden-quarantine to user backdoor-admin",
            "deactivated 1 access key of user backdoor-admin",
            "user backdoor-admin had no console password to remove",
        ),
    ),
    Example(
        "remediated-user-deleted",
        "remediate mode with remediation: delete: the message says the user cannot be restored",
        "create-user-backdoor-cli.json",
        Outcome.REMEDIATED,
        settings={"rules/iam-user-created/remediation": "delete"},
        actions=("deleted user backdoor-admin, its 1 access key and its console password",),
        undoable=False,
    ),
    Example(
        "remediation-failed",
        "remediate mode: a public bucket policy that IAM Warden could not fix",
        "bucket-policy-public-read.json",
        Outcome.REMEDIATION_FAILED,
        actions=("remove statement 0 (PublicRead) from the policy of bucket acme-invoices, keep the rest",),
        error=(
            "s3:PutBucketPolicy on acme-invoices was denied (AccessDenied): the bucket policy is unchanged and "
            "still lets anyone read objects."
        ),
        owner=Owner("billing", "tag owner on bucket acme-invoices"),
        owner_routed=False,
    ),
    Example(
        "noteworthy-break-glass",
        "a break-glass role created a user: alerted, never remediated",
        "create-user-break-glass.json",
        Outcome.NOTEWORTHY,
        owner=Owner("sre", "tag team on role BreakGlassAdmin, which made the change"),
        owner_routed=True,
    ),
    Example(
        "configuration-error",
        "two invalid SSM parameters, reported by the real settings parser",
        None,
        Outcome.CONFIGURATION_ERROR,
        problems_from={
            "rules": {"iam-user-created": {"mode": "enforce"}},
            "trusted_accounts": ["12345"],
        },
    ),
    Example(
        "rejected-forged-event",
        "an event from one member account names a user in another account: rejected, nothing changed",
        "create-user-forged-cross-account.json",
        Outcome.REJECTED,
    ),
    Example(
        "circuit-breaker-tripped",
        "the eleventh remediation within 15 minutes in one account: the breaker trips, every rule is alert-only",
        "attach-admin-to-role.json",
        Outcome.CIRCUIT_BREAKER_TRIPPED,
        settings={"rules/managed-policy-attached/mode": "remediate"},
        error=(
            "the circuit breaker tripped: 11 remediations in account 111122223333 within 15 minutes, more than "
            "the 10 allowed"
        ),
    ),
    Example(
        "alerted-breaker-held",
        "a rule in remediate mode while the breaker is tripped: held, alerted with the reason",
        "attach-admin-to-role.json",
        Outcome.ALERTED,
        settings={"rules/managed-policy-attached/mode": "remediate"},
        error="enforcement is switched off (the kill switch is 'off', not 'on')",
        owner=Owner("payments", "tag team on role app-backend"),
        owner_routed=True,
    ),
)


def base_settings() -> dict[str, Any]:
    import yaml  # noqa: PLC0415

    loaded = yaml.safe_load((EVENTS / "settings.yaml").read_text(encoding="utf-8"))
    return flatten(loaded)


def notification_of(example: Example) -> Notification:
    if example.problems_from is not None:
        _, problems = parse_settings(example.problems_from)
        return Notification(Outcome.CONFIGURATION_ERROR, problems=tuple(problems))
    if example.event is None:
        raise ValueError(f"example {example.kind} names no event")
    settings = load_settings({**base_settings(), **example.settings})
    event = json.loads((EVENTS / example.event).read_text(encoding="utf-8"))
    judgement = judge_event(event, settings)
    if example.outcome is Outcome.REJECTED:
        digest = hashlib.sha256(f"{judgement.change.event_id if judgement.change else ''}/rejected".encode())
        remediation = f"rejected-{digest.hexdigest()[:20]}"
        return Notification(
            example.outcome, change=judgement.change, remediation_id=remediation, error=judgement.reason
        )
    finding = judgement.findings[0]
    if example.outcome is Outcome.CIRCUIT_BREAKER_TRIPPED:
        digest = hashlib.sha256(f"{finding.finding_id}/breaker".encode())
        return Notification(
            example.outcome,
            change=judgement.change,
            remediation_id=f"breaker-{digest.hexdigest()[:20]}",
            error=example.error,
        )
    # Every finding has an audit record, as the enforcer writes it: alerted ones too (their buttons name it).
    remediation_id = remediation_id_of(finding)
    return Notification(
        example.outcome,
        finding,
        judgement.change,
        remediation_id=remediation_id,
        actions=example.actions,
        error=example.error,
        undoable=example.undoable,
    )


_ACTED = (Outcome.REMEDIATED, Outcome.REMEDIATION_FAILED)


def message_of(example: Example) -> AlertMessage:
    notification = notification_of(example)
    if notification.finding is None:
        return build_message(notification, account="111122223333")
    return build_message(notification, account_alias=ALIAS, owner=example.owner, owner_routed=example.owner_routed)


def rendered() -> dict[str, str]:
    """Every docs/alerts file, by name, as the generator would write it."""
    files: dict[str, str] = {}
    index = [
        "# What an alert looks like",
        "",
        "Generated by `tools/render_alert_docs.py` from the sample events in [`events/`](../../events) "
        "judged with [`events/settings.yaml`](../../events/settings.yaml); do not edit by hand. The account "
        f"alias ({ALIAS}), the owner teams, the enforcer's action lines and the failure text are example "
        "inputs. A test fails when these files are out of date.",
        "",
        "For each kind: the Markdown preview, the exact Slack webhook payload (paste its `blocks` into "
        "[Block Kit Builder](https://app.slack.com/block-kit-builder) to see it as Slack shows it), and the "
        "readable text that SNS e-mail subscribers get. SQS, Lambda and HTTPS subscribers get the same alert "
        "as JSON (schema `iamwarden.alert/1`).",
        "",
        'A finding alert posted by the Slack app (bot token, README "Acting from Slack") carries buttons: '
        "*Undo* and *Undo and exempt* on a remediation that can be undone, *Request exception*, *Acknowledge*. "
        "The Slack app column shows that payload; an incoming webhook gets the one without buttons.",
        "",
        "| kind | what happened | preview | Slack | Slack app (buttons) | e-mail |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for example in EXAMPLES:
        message = message_of(example)
        payload = json.dumps(render_slack(message), indent=2, ensure_ascii=False) + "\n"
        files[f"{example.kind}.slack.json"] = payload
        files[f"{example.kind}.md"] = render_markdown(message)
        files[f"{example.kind}.sns.txt"] = render_text(message)
        app = "no buttons"
        if interaction_blocks(message):
            app_payload = json.dumps(render_slack(message, interactive=True), indent=2, ensure_ascii=False) + "\n"
            files[f"{example.kind}.slack-app.json"] = app_payload
            app = f"[{example.kind}.slack-app.json]({example.kind}.slack-app.json)"
        index.append(
            f"| `{example.outcome.value}` | {example.description} | [{example.kind}.md]({example.kind}.md) "
            f"| [{example.kind}.slack.json]({example.kind}.slack.json) | {app} "
            f"| [{example.kind}.sns.txt]({example.kind}.sns.txt) |"
        )
    files["README.md"] = "\n".join(index) + "\n"
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/alerts is out of date")
    args = parser.parse_args(argv)
    files = rendered()
    if args.check:
        stale = sorted(
            name
            for name, text in files.items()
            if not (DOCS / name).is_file() or (DOCS / name).read_text(encoding="utf-8") != text
        )
        extra = sorted(path.name for path in DOCS.glob("*") if path.name not in files) if DOCS.is_dir() else []
        for name in stale + extra:
            print(f"docs/alerts/{name} is out of date; run tools/render_alert_docs.py", file=sys.stderr)
        return 1 if stale or extra else 0
    DOCS.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (DOCS / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(files)} files to docs/alerts/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
