"""``make demo``: IAM Warden deployed into an emulated AWS account, attacked, and the account safe again.

The loop, step by step: a real boto3 call changes the emulated account; the
demo builds the CloudTrail record AWS would emit for it and puts it on
moto's EventBridge, where the rules CloudFormation created from template.yaml
decide whether it reaches the enforcer (an extra SQS target shows what they
routed, as moto cannot run a Lambda); the built enforcer handles each routed
event as Lambda would; the state is read back. It exits 1 if any step
diverged from what the story expects, and stops every server it started,
also on Ctrl-C.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any, NamedTuple, TextIO

import boto3

from demo.backtest import backtest_demo
from demo.deploy import STACK_NAME, Deployment, deploy
from demo.exceptions import ExceptionDemoResult, run_exception_demo
from demo.lambda_runtime import LambdaContainer
from demo.pruner import PruneResult, run_pruner
from demo.servers import MotoServer, SlackReceiver
from demo.story import REGION, Account, Check, Step, launch_page_step, story

ROOT = Path(__file__).resolve().parents[1]
INBOX = "demo-enforcer-inbox"
MAILBOX = "demo-security-mailbox"
BIN = Path(sys.executable).parent


class StepResult(NamedTuple):
    step: Step
    routed: list[str]  # event names the rules routed
    verdict: str
    outcomes: dict[str, str]
    remediation_ids: dict[str, str]  # rule -> id, only for findings that changed something (there is an undo)
    done: list[str]
    slack: int
    sns: int
    check: Check
    problems: list[str]
    #: The CloudTrail records the step played (their ``detail``), for the backtest at the end.
    records: tuple[dict[str, Any], ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


class DemoResult(NamedTuple):
    steps: list[StepResult]
    undo_ok: bool
    slack_posts: list[dict[str, Any]]
    left_out: list[tuple[str, str, str]]
    pruner: PruneResult | None = None
    exceptions: ExceptionDemoResult | None = None

    @property
    def ok(self) -> bool:
        pruned_ok = self.pruner is None or self.pruner.ok
        excepted_ok = self.exceptions is None or self.exceptions.ok
        return self.undo_ok and pruned_ok and excepted_ok and all(step.ok for step in self.steps)


class Stopped(Exception):
    """Ctrl-C or SIGTERM: unwind so every server is stopped."""


@contextmanager
def _aws_environment(endpoint: str) -> Iterator[None]:
    """boto3 in this process talks to the emulated AWS, with moto's test credentials."""
    values = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }
    saved = {name: os.environ.get(name) for name in [*values, "AWS_SESSION_TOKEN", "AWS_PROFILE"]}
    os.environ.update(values)
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.pop("AWS_PROFILE", None)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_demo(
    work: Path,
    out: TextIO,
    *,
    plot: Callable[[Account], list[Step]] = story,
    deployer: Callable[[Path, Path, Any, str, Path], Deployment] = deploy,
    moto: MotoServer | None = None,
    slack: SlackReceiver | None = None,
) -> DemoResult:
    """Everything ``make demo`` does, printing the timeline to ``out``; every server is stopped on return.

    ``plot`` is the story and ``deployer`` the deployment (tests vary them); ``moto`` and ``slack`` are
    the servers to start (new ones by default).
    """
    work.mkdir(parents=True, exist_ok=True)
    log = work / "demo.log"
    log.write_text("")
    moto = moto or MotoServer(work / "moto_server.log")
    slack = slack or SlackReceiver()
    container: LambdaContainer | None = None
    try:
        _say(out, "== 1. An emulated AWS account on this machine")
        moto.start()
        slack.start()
        _say(
            out, f"   moto_server on 127.0.0.1:{moto.port} (AWS-managed policies loaded), Slack receiver on {slack.url}"
        )
        with _aws_environment(moto.endpoint):
            session = boto3.Session(region_name=REGION)
            _say(
                out, "\n== 2. IAM Warden deployed the way sam deploy does it (build, package, transform, create_stack)"
            )
            started = time.monotonic()
            deployment = deployer(ROOT, work, session, moto.endpoint, log)
            _report_deployment(out, deployment, time.monotonic() - started)

            _say(out, "\n== 3. The account's starting state")
            account = Account(session, moto.endpoint, deployment.function_environment["IAMWARDEN_SETTINGS_PREFIX"])
            secret = deployment.function_environment["IAMWARDEN_SLACK_WEBHOOK_SECRET"]
            for line in account.set_up(slack.url, secret):
                _say(out, f"   - {line}")
            _say(out, f"   - {account.heartbeat_read(deployment.function_environment['IAMWARDEN_AUDIT_TABLE'])}")
            inbox, mailbox = _wire_observers(session, deployment)
            _say(
                out, f"   - the enforcer's EventBridge rules target SQS queue {INBOX} instead of the function, and the"
            )
            _say(out, "     pruner's rules lose their function targets: moto's EventBridge cannot invoke a Lambda")
            _say(out, f"   - SQS queue {MAILBOX} subscribed to the alert topic, to see what SNS delivered")

            configuration = session.client("lambda").get_function_configuration(FunctionName=deployment.function_name)
            credentials = account.credentials(deployment.role_arn, deployment.function_name)
            container = LambdaContainer(
                function_dir=deployment.build_dir / "EnforcerFunction",
                layer_dir=deployment.build_dir / "CoreLayer" / "python",
                configuration=configuration,
                credentials=credentials,
                endpoint=moto.endpoint,
                region=REGION,
                log_path=work / "enforcer.log",
            )
            container.start()

            _say(out, "\n== 4. The story: calls by arn:aws:sts::…:assumed-role/developer/dev@example.com")
            results: list[StepResult] = []
            for number, step in enumerate(plot(account), 1):
                played = _play(step, session, inbox=inbox, mailbox=mailbox, container=container, slack=slack)
                _print_step(out, number, played)
                results.append(played)

            _print_summary(out, results)
            posts = slack.received()
            if posts:
                _say(out, "\n== 6. One Slack message as the receiver got it")
                _print_slack(out, posts[0])
            undo_ok = _undo(out, account, results, moto.endpoint)
            _say(out, "\n== 7b. A time-boxed exception: requested, approved, the change left alone, then expired")

            def play_exempted() -> bool:
                # The approval was announced to the security channel (SNS) by the CLI: say so, apart from the step.
                notices = _drain(session.client("sqs"), mailbox)
                subjects = [str(notice.get("Subject") or "a notice") for notice in notices]
                _say(out, f"   announced to SNS topic iamwarden-alerts: {subjects or 'nothing'}")
                played = _play(
                    launch_page_step(account), session, inbox=inbox, mailbox=mailbox, container=container, slack=slack
                )
                _print_step(out, len(results) + 1, played)
                return played.ok

            excepted = run_exception_demo(
                out,
                session,
                environment=deployment.function_environment,
                requester_env=_as_role(account, moto.endpoint, "developer", "dev@example.com"),
                operator_env=_as_secops(account, moto.endpoint),
                cli=BIN / "iamwarden",
                play=play_exempted,
            )
            _say(out, "\n== 8. The Access Advisor pruner: a role's first three weeks, on a shortened clock")
            pruned = run_pruner(
                out, session, _prune_table(session), _as_secops(account, moto.endpoint), BIN / "iamwarden"
            )
            result = DemoResult(results, undo_ok, posts, deployment.left_out, pruned, excepted)
            _say(
                out,
                f"\n{'All steps went as expected.' if result.ok else 'SOME STEPS DIVERGED (marked DIVERGED above).'}",
            )
            _say(out, f"Logs: {work}/enforcer.log (the enforcer), {log} (sam), {moto.log_path}")
            backtest_demo(work, out, played=[record for played in results for record in played.records])
            return result
    finally:
        if container is not None:
            container.stop()
        slack.stop()
        moto.stop()


def _say(out: TextIO, text: str) -> None:
    out.write(text + "\n")
    out.flush()


def _report_deployment(out: TextIO, deployment: Deployment, seconds: float) -> None:
    created = ", ".join(f"{count} {kind.removeprefix('AWS::')}" for kind, count in sorted(deployment.created.items()))
    _say(out, f"   stack iamwarden CREATE_COMPLETE in {seconds:.0f} s: {created}")
    _say(out, "   Not created by moto's CloudFormation (this moto version does not support these types):")
    for logical, kind, what in deployment.left_out:
        _say(out, f"   - {logical} ({kind}): {what}")
    _say(out, f"   enforcer {deployment.function_name}, role {deployment.role_arn}")


def _wire_observers(session: Any, deployment: Deployment) -> tuple[str, str]:
    """An SQS target on each rule that feeds the enforcer, and an SQS subscriber on the alert topic."""
    sqs = session.client("sqs")
    events = session.client("events")
    inbox = sqs.create_queue(QueueName=INBOX)["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    function_arn = session.client("lambda").get_function_configuration(FunctionName=deployment.function_name)[
        "FunctionArn"
    ]
    # Every bus: the enforcer's rules are on the central bus, fed by the default bus's forwarding rule.
    for bus in events.list_event_buses()["EventBuses"]:
        for rule in events.list_rules(EventBusName=bus["Name"])["Rules"]:
            targets = events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus["Name"])["Targets"]
            # moto's EventBridge raises on a Lambda target (and matches every event to a schedule-only rule):
            # the queue takes the enforcer's place, the pruner's rules lose their function targets.
            functions = [target for target in targets if ":lambda:" in target["Arn"]]
            if functions:
                events.remove_targets(
                    Rule=rule["Name"], EventBusName=bus["Name"], Ids=[target["Id"] for target in functions]
                )
            if any(target["Arn"] == function_arn for target in functions):
                events.put_targets(
                    Rule=rule["Name"], EventBusName=bus["Name"], Targets=[{"Id": "demo-inbox", "Arn": inbox_arn}]
                )
    mailbox = sqs.create_queue(QueueName=MAILBOX)["QueueUrl"]
    mailbox_arn = sqs.get_queue_attributes(QueueUrl=mailbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    session.client("sns").subscribe(
        TopicArn=deployment.function_environment["IAMWARDEN_ALERT_TOPIC_ARN"], Protocol="sqs", Endpoint=mailbox_arn
    )
    return inbox, mailbox


def _drain(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return bodies
        for message in batch:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def _play(
    step: Step, session: Any, *, inbox: str, mailbox: str, container: LambdaContainer, slack: SlackReceiver
) -> StepResult:
    events_client = session.client("events")
    sqs = session.client("sqs")
    slack_before = len(slack.received())
    problems: list[str] = []
    records = step.act()
    for record in records:
        answer = events_client.put_events(
            Entries=[
                {
                    "Source": record["source"],
                    "DetailType": record["detail-type"],
                    "Detail": json.dumps(record["detail"]),
                    "Resources": record["resources"],
                    "EventBusName": "default",
                }
            ]
        )
        if answer["FailedEntryCount"]:
            problems.append(f"EventBridge refused {record['detail']['eventName']}")
    delivered = _drain(sqs, inbox)
    routed = [event["detail"]["eventName"] for event in delivered]
    verdict = ""
    outcomes: dict[str, str] = {}
    remediation_ids: dict[str, str] = {}
    done: list[str] = []
    for event in delivered:
        answer = container.invoke(event)
        if "error" in answer:
            problems.append(f"the enforcer failed: {answer['error']}")
            continue
        verdict = answer["result"]["verdict"]
        for finding in answer["result"]["findings"]:
            outcomes[finding["rule"]] = finding["outcome"]
            if finding.get("done"):  # an alert-only finding changed nothing: there is nothing to undo
                remediation_ids[finding["rule"]] = finding["remediation_id"]
            done.extend(finding.get("done", []))
    sns = len(_drain(sqs, mailbox))
    slack_count = len(slack.received()) - slack_before
    check = step.check()
    if tuple(routed) != step.routed:
        problems.append(f"routed {routed or 'nothing'}, expected {list(step.routed) or 'nothing'}")
    if verdict != step.verdict:
        problems.append(f"verdict {verdict or 'none'}, expected {step.verdict or 'none'}")
    if outcomes != step.outcomes:
        problems.append(f"outcomes {outcomes}, expected {step.outcomes}")
    if not check.ok:
        problems.append(f"state afterwards: {check.state}")
    expected_alerts = len(step.outcomes)
    if slack_count != expected_alerts or sns != expected_alerts:
        problems.append(f"alerts: {slack_count} on Slack and {sns} by SNS, expected {expected_alerts} each")
    return StepResult(
        step,
        routed,
        verdict,
        outcomes,
        remediation_ids,
        done,
        slack_count,
        sns,
        check,
        problems,
        tuple(record["detail"] for record in records),
    )


def _print_step(out: TextIO, number: int, result: StepResult) -> None:
    step = result.step
    _say(out, f"\n[{number}] {step.title}   ({step.technique})")
    _say(out, f"    routed by the template's rules: {', '.join(result.routed) or 'nothing'}")
    if result.verdict:
        findings = ", ".join(f"{rule} -> {outcome}" for rule, outcome in result.outcomes.items())
        _say(out, f"    verdict:  {result.verdict}{'  ' + findings if findings else ''}")
    for action in result.done:
        _say(out, f"    action:   {action}")
    for rule, remediation_id in result.remediation_ids.items():
        _say(out, f"    undo:     iamwarden undo {remediation_id}   ({rule})")
    if result.outcomes:
        _say(
            out, f"    alerts:   {result.slack} to Slack (security channel), {result.sns} to SNS topic iamwarden-alerts"
        )
    _say(out, f"    after:    {result.check.state}")
    _say(out, "    OK" if result.ok else "    DIVERGED: " + "; ".join(result.problems))


def summary_table(results: list[StepResult]) -> list[str]:
    """The summary as aligned rows: every column as wide as its widest cell, nothing truncated."""
    header = ("#", "change", "routed", "verdict", "outcome", "Slack+SNS", "ok")
    rows = [
        (
            str(number),
            result.step.title,
            "yes" if result.routed else "no",
            result.verdict or "-",
            ", ".join(result.outcomes.values()) or "-",
            f"{result.slack}+{result.sns}",
            "yes" if result.ok else "NO",
        )
        for number, result in enumerate(results, 1)
    ]
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header))]

    def line(row: tuple[str, ...]) -> str:
        cells = [row[0].rjust(widths[0]), *(cell.ljust(width) for cell, width in zip(row[1:], widths[1:], strict=True))]
        return "  ".join(cells).rstrip()

    ruler = "-" * len(line(tuple("x" * width for width in widths)))
    return [line(header), ruler, *(line(row) for row in rows)]


def _print_summary(out: TextIO, results: list[StepResult]) -> None:
    _say(out, "\n== 5. Summary")
    for row in summary_table(results):
        _say(out, row)


def _print_slack(out: TextIO, post: dict[str, Any]) -> None:
    for block in post.get("blocks", []):
        texts = []
        if "text" in block and isinstance(block["text"], dict):
            texts.append(block["text"]["text"])
        texts.extend(field["text"].replace("\n", ": ", 1) for field in block.get("fields", []))
        texts.extend(element.get("text", "") for element in block.get("elements", []) if isinstance(element, dict))
        for text in texts:
            for line in text.splitlines():
                _say(out, f"   | {line}")
        if texts:
            _say(out, "   |")


def _undo(out: TextIO, account: Account, results: list[StepResult], endpoint: str) -> bool:
    """The way back: the vendor share was approved after all. Allow the bucket, then undo the remediation."""
    rule = "s3-bucket-policy-cross-account"
    remediation_id = next((r.remediation_ids[rule] for r in results if rule in r.remediation_ids), None)
    _say(out, "\n== 7. The way back: the vendor share was approved after all")
    if remediation_id is None:
        _say(out, "   DIVERGED: no remediation of acme-exports to undo")
        return False
    parameter = f"{account.prefix}/rules/{rule}/allow_resources"
    account.session.client("ssm").put_parameter(
        Name=parameter, Value="arn:aws:s3:::acme-exports", Type="StringList", Overwrite=True
    )
    _say(out, f"   exception added: {parameter} = arn:aws:s3:::acme-exports")
    env = {**os.environ, **_as_secops(account, endpoint)}
    _say(out, f"   $ iamwarden undo {remediation_id}   (as role secops)")
    answer = subprocess.run(
        [str(BIN / "iamwarden"), "undo", remediation_id], env=env, capture_output=True, text=True, check=False
    )
    for line in (answer.stdout + answer.stderr).splitlines():
        _say(out, f"   {line}")
    check = account.bucket_state("acme-exports", ["OwnAccount", "ShareWithVendor"])
    _say(out, f"   after:    {check.state}")
    ok = answer.returncode == 0 and check.ok
    _say(out, "   OK" if ok else f"   DIVERGED: exit {answer.returncode}, {check.state}")
    return ok


def _as_secops(account: Account, endpoint: str) -> dict[str, str]:
    """The environment of an operator signed in as role secops, for the iamwarden command line."""
    return _as_role(account, endpoint, "secops", "alice@example.com")


def _as_role(account: Account, endpoint: str, role: str, session_name: str) -> dict[str, str]:
    """The environment of someone signed in as ``role``, for the iamwarden command line."""
    credentials = account.credentials(role, session_name)
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
        "AWS_SESSION_TOKEN": credentials["SessionToken"],
    }


def _prune_table(session: Any) -> str:
    """The pruner's state table as the stack named it."""
    answer = session.client("cloudformation").describe_stack_resource(
        StackName=STACK_NAME, LogicalResourceId="PruneStateTable"
    )
    return str(answer["StackResourceDetail"]["PhysicalResourceId"])


def _stop(signum: int, frame: FrameType | None) -> None:
    raise Stopped(signal.Signals(signum).name)


def install_signal_handlers() -> None:
    """Ctrl-C and SIGTERM unwind the demo through its ``finally``, which stops the servers."""
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)


def main() -> int:
    install_signal_handlers()
    try:
        result = run_demo(ROOT / ".aws-sam" / "demo", sys.stdout)
    except Stopped as exc:
        print(f"\nStopped ({exc}); every server the demo started is stopped.", file=sys.stderr)
        return 130
    except RuntimeError as exc:
        print(f"\nThe demo could not run: {exc}", file=sys.stderr)
        return 1
    return 0 if result.ok else 1
