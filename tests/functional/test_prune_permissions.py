"""The pruner's and the heartbeat's roles are least privilege, proven the way the enforcer's are.

Each function runs as Lambda wires it (``build_prune_runtime`` / ``build_heartbeat``, the handlers loaded from
functions/) against moto, with Access Advisor answered by botocore's Stubber (moto has no Access Advisor).
Every AWS call is recorded (botocore's ``provide-client-params`` hook, on the session and on the stubbed
client), mapped to its IAM action, resource ARN and condition keys, and checked by tests/least_privilege.py
against the policies the template gives the function's role: every call allowed, every grant used by some
call or listed in ``UNREACHED`` with why the run cannot reach it.

The scenario: the planner over several roles (one of them IAM Warden's own, which it skips); the worker
announcing and, after ``notice_days``, applying a prune to each (an inline policy rewritten, an inline policy
deleted, a customer-managed policy at its five-version limit, a shared policy copied, an AWS-managed policy
detached), with notices to the security topic and the owning team's topic; the watch telling the owners
about a denied call the prune removed; the heartbeat finding a whole loop, then a disabled rule (and
alerting). The worker runs in a member account too, through the member template's pruner role. Undoing a
prune is ``iamwarden prune rollback``, run with the operator's own credentials, never these roles: its calls
are recorded and shown to need grants the roles do not have (so the roles stay narrower than the undo).
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import boto3
import pytest

from iamwarden.adapters.clients import ClientFactory, iam_action_of
from iamwarden.app.heartbeat import build_heartbeat
from iamwarden.prune.adapters.iam_reader import IamReader
from iamwarden.prune.adapters.store import PruneStore
from iamwarden.prune.app.runtime import PruneRuntime
from iamwarden.prune.app.wiring import build_prune_runtime
from iamwarden.prune.domain.decide import updated_ledger
from tests.aws_fixtures import HOME_ACCOUNT, REGION, function_environment, resolve
from tests.conftest import load_event
from tests.functional.conftest import Account
from tests.functional.prune_support import AccessAdvisorStub, Clock, allow, create_role, document, service
from tests.functional.test_attacker import Loop, loop  # noqa: F401 - the heartbeat checks the attacker test's loop
from tests.functional.test_enforcer_handler import FakeLambdaContext
from tests.functional.test_prune_handlers import load, sqs_event
from tests.functional.test_prune_lifecycle import CATALOGUE, MAIN
from tests.integration.test_member_template import member_template
from tests.least_privilege import Call, Grant, check, grants_of
from tests.sam_template import deployed_template, translated_template

MEMBER = "444455556666"
MEMBER_ROLE = "iamwarden-pruner-member"
MEMBER_STACK_ROLES = ("iamwarden-remediator", "iamwarden-pruner-member", "iamwarden-snapshot-reader")
LAMBDA_BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
TEAM_TOPIC = f"arn:aws:sns:{REGION}:{HOME_ACCOUNT}:iamwarden-team-orders"
LOG_GROUPS = {
    f"{name}.Arn": f"arn:aws:logs:{REGION}:{HOME_ACCOUNT}:log-group:/aws/lambda/iamwarden-{function}:*"
    for name, function in (
        ("PrunePlannerLogGroup", "prune-planner"),
        ("PruneWorkerLogGroup", "prune-worker"),
        ("PruneWatchLogGroup", "prune-watch"),
        ("HeartbeatLogGroup", "heartbeat"),
    )
}


# --- the roles, as the templates deploy them ---------------------------------------------------------


def role_policies(role: str, parameters: dict[str, str] | None = None) -> dict[str, list[dict[str, Any]]]:
    """Policy name -> resolved statements of ``role`` in template.yaml (deployed with ``parameters``, else the
    defaults): its own policies and the separate AWS::IAM::RolePolicy resources attached to it."""
    resources = deployed_template(parameters)["Resources"] if parameters else deployed_template()["Resources"]
    found = {p["PolicyName"]: p["PolicyDocument"] for p in resources[role]["Properties"].get("Policies", [])}
    for resource in resources.values():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::RolePolicy" and properties.get("RoleName") == {"Ref": role}:
            found[properties["PolicyName"]] = properties["PolicyDocument"]
    return {name: resolve(document["Statement"], LOG_GROUPS, parameters) for name, document in found.items()}


def member_role_policies() -> dict[str, list[dict[str, Any]]]:
    """The member template's pruner role, for account ``MEMBER``."""
    role = member_template()["Resources"]["PrunerMemberRole"]["Properties"]
    names = {"AWS::AccountId": MEMBER, "PrunerMemberRoleName": MEMBER_ROLE, "MemberRoleName": "iamwarden-remediator"}
    return {p["PolicyName"]: resolve(p["PolicyDocument"]["Statement"], names) for p in role["Policies"]}


def _grant(policy: str, sid: str, action: str, resource: str) -> Grant:
    return Grant(policy, sid, action, resource)


_LOGS = "the Lambda service writes the function's logs with its role; the code never calls CloudWatch Logs"
_TRACES = "the X-Ray SDK's daemon sends trace segments; the code makes no X-Ray API call"
_POLLER = "the worker's SQS event source mapping polls the queue with the function's role (AWS, not the code)"
_DLQ = "Lambda's on-failure destination of the asynchronously invoked planner and watch sends with the role"
_SNS_KMS = "SNS encrypts what is published to the topic (SSE with AlertKey) with the publisher's permissions"

#: Grants no call of the run can use, and why (each still needed, by the step or service named).
_OWN_STACK = f"arn:aws:cloudformation:{REGION}:{HOME_ACCOUNT}:stack/iamwarden/*"
UNREACHED: dict[Grant, str] = {
    **{
        _grant("pruner-runtime", "WriteOwnLogs", action, LOG_GROUPS[f"{group}.Arn"]): _LOGS
        for action in ("logs:CreateLogStream", "logs:PutLogEvents")
        for group in ("PrunePlannerLogGroup", "PruneWorkerLogGroup", "PruneWatchLogGroup")
    },
    **{
        _grant("pruner-runtime", "WriteTraces", action, "*"): _TRACES
        for action in ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
    },
    **{
        _grant("pruner-runtime", "Queue", action, f"arn:aws:sqs:{REGION}:{HOME_ACCOUNT}:iamwarden-prune-roles"): _POLLER
        for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
    },
    _grant(
        "pruner-runtime",
        "DeadLetterFailedInvocations",
        "sqs:SendMessage",
        f"arn:aws:sqs:{REGION}:{HOME_ACCOUNT}:iamwarden-prune-dlq",
    ): _DLQ,
    **{
        _grant(
            "pruner-alerts", "EncryptNotices", action, f"arn:aws:kms:{REGION}:{HOME_ACCOUNT}:key/mrk-iamwarden-alerts"
        ): _SNS_KMS
        for action in ("kms:GenerateDataKey", "kms:Decrypt")
    },
    _grant("pruner-member-accounts", "ActInMemberAccounts", "sts:AssumeRole", f"arn:aws:iam::*:role/{MEMBER_ROLE}"): (
        "the pruner acts in a member account: test_the_member_pruner_role_allows_every_call_the_worker_makes_there"
    ),
    _grant(
        "heartbeat", "ReadMemberAccountsForSnapshots", "sts:AssumeRole", "arn:aws:iam::*:role/iamwarden-snapshot-reader"
    ): (
        "the heartbeat snapshots member accounts through their snapshot-reader role, and the loop has none "
        "(no OrganizationId: only this account's roles, where the member stack creates none); "
        "tests/functional/test_heartbeat_member_snapshots.py takes two member accounts"
    ),
    _grant("heartbeat", "ListOrganizationAccounts", "organizations:ListAccounts", "*"): (
        "the loop's heartbeat is deployed without an organisation (its member is in managed_accounts): "
        "tests/functional/test_heartbeat_member_coverage.py lists the organisation's accounts against this role"
    ),
    **{
        _grant("heartbeat", "WriteOwnLogs", action, LOG_GROUPS["HeartbeatLogGroup.Arn"]): _LOGS
        for action in ("logs:CreateLogStream", "logs:PutLogEvents")
    },
    **{
        _grant("heartbeat", "WriteTraces", action, "*"): _TRACES
        for action in ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
    },
    **{
        _grant(
            "heartbeat", "EncryptAlerts", action, f"arn:aws:kms:{REGION}:{HOME_ACCOUNT}:key/mrk-iamwarden-alerts"
        ): _SNS_KMS
        for action in ("kms:GenerateDataKey", "kms:Decrypt")
    },
}


# --- recording calls as IAM authorises them -----------------------------------------------------------

#: Batch operations IAM authorises as the single action.
_BATCHED = {"sqs:SendMessageBatch": "sqs:SendMessage", "sqs:DeleteMessageBatch": "sqs:DeleteMessage"}


def authorised_as(action: str, params: dict[str, Any], account: str, region: str) -> Call:
    """The resource ARN and condition keys IAM authorises ``action`` with ``params`` on; unknown calls fail."""
    action = _BATCHED.get(action, action)
    service, operation = action.split(":")
    iam = f"arn:aws:iam::{account}"
    if service == "iam":
        if operation in (
            "ListRoles",
            "GetServiceLastAccessedDetails",
            "GetAccountAuthorizationDetails",
            "ListOpenIDConnectProviders",
            "ListSAMLProviders",
        ):
            return Call(action, "*")  # no resource type (a job id names no resource)
        for provider in ("OpenIDConnectProviderArn", "SAMLProviderArn"):  # the heartbeat's provider snapshots
            if provider in params:
                return Call(action, str(params[provider]))
        if "Arn" in params:  # Access Advisor names the role by ARN
            return Call(action, str(params["Arn"]))
        if "RoleName" in params:
            context = {"iam:PolicyARN": params["PolicyArn"]} if "PolicyArn" in params else {}
            return Call(action, f"{iam}:role/{params['RoleName']}", context)
        if "PolicyArn" in params:
            return Call(action, str(params["PolicyArn"]))
        if operation == "CreatePolicy":
            return Call(action, f"{iam}:policy{params.get('Path', '/')}{params['PolicyName']}")
    if service == "cloudtrail":
        if operation == "DescribeTrails":
            return Call(action, "*")  # no resource type
        return Call(action, str(params.get("Name") or params["TrailName"]))  # the heartbeat names trails by ARN
    if action == "sts:AssumeRole":
        owner = str(params["RoleArn"]).split(":")[4]
        return Call(action, str(params["RoleArn"]), {"aws:ResourceAccount": owner})
    if service == "dynamodb":
        return Call(action, f"arn:aws:dynamodb:{region}:{account}:table/{params['TableName']}")
    if service == "ssm":
        return Call(action, f"arn:aws:ssm:{region}:{account}:parameter{params.get('Path') or params['Name']}")
    if service == "sqs":
        owner, name = str(params["QueueUrl"]).split("/")[-2:]
        return Call(action, f"arn:aws:sqs:{region}:{owner}:{name}")
    if service == "sns":
        # Subscription calls name the subscription (no resource type IAM knows: granted on "*"); the data-protection
        # calls name the topic as ResourceArn.
        return Call(action, str(params.get("TopicArn") or params.get("ResourceArn") or params["SubscriptionArn"]))
    if service == "kms":
        key = str(params["KeyId"])
        return Call(action, key if key.startswith("arn:") else f"arn:aws:kms:{region}:{account}:key/{key}")
    if service == "secretsmanager":
        return Call(action, f"arn:aws:secretsmanager:{region}:{account}:secret:{params['SecretId']}")
    if action == "s3:GetBucketPublicAccessBlock":  # the heartbeat's Block Public Access records
        return Call(action, f"arn:aws:s3:::{params['Bucket']}", {"s3:ResourceAccount": account})  # its own buckets
    if action in ("s3:ListAllMyBuckets", "s3:GetAccountPublicAccessBlock"):
        return Call(action, "*")  # no resource type
    if action in ("cloudwatch:GetMetricData", "organizations:ListAccounts", "ec2:DescribeRegions"):
        return Call(action, "*")  # no resource type
    if action in (
        "guardduty:ListDetectors",
        "config:DescribeConfigurationRecorders",
        "config:DescribeConfigurationRecorderStatus",
        "config:DescribeDeliveryChannels",
    ):
        return Call(action, "*")  # the detector and recorder snapshots' lists: no resource type
    if action == "guardduty:GetDetector":
        return Call(action, f"arn:aws:guardduty:{region}:{account}:detector/{params['DetectorId']}")
    if action == "cloudformation:ListStackInstances":  # the StackSet (its id after the name: any)
        return Call(action, f"arn:aws:cloudformation:{region}:{account}:stackset/{params['StackSetName']}:0a1b2c3d")
    if service == "events" and action == "events:DescribeEventBus":
        return Call(action, f"arn:aws:events:{region}:{account}:event-bus/{params.get('Name') or 'default'}")
    if service == "events":
        bus = params.get("EventBusName") or "default"
        name = params.get("Name") or params["Rule"]
        return Call(action, f"arn:aws:events:{region}:{account}:rule/{'' if bus == 'default' else bus + '/'}{name}")
    if service == "lambda":
        function = str(params["FunctionName"])
        if not function.startswith("arn:"):
            function = f"arn:aws:lambda:{region}:{account}:function:{function}"
        return Call(action, function)
    raise AssertionError(f"the test does not know which resource {action} acts on: {params}")


class Recorder:
    """Every call of the clients it is registered on, as IAM authorises it, by the account it acts in."""

    def __init__(self) -> None:
        self.calls: dict[str, list[Call]] = {}
        self.paused = False

    def hook(self, account: str) -> Any:
        def record(params: dict[str, Any], model: Any, **kwargs: Any) -> None:
            if self.paused:
                return
            region = kwargs.get("context", {}).get("client_region") or REGION
            call = authorised_as(iam_action_of(model.service_model, model.name), dict(params), account, region)
            self.calls.setdefault(account, []).append(call)

        return record

    def take(self, account: str = HOME_ACCOUNT) -> list[Call]:
        return self.calls.pop(account, [])


# --- the scenario ---------------------------------------------------------------------------------------


class Pruning:
    """The pruner's three functions, as Lambda loads and wires them, over one emulated account."""

    def __init__(self, account: Account, recorder: Recorder, factory: ClientFactory) -> None:
        self.account = account
        self.recorder = recorder
        self.clock = Clock()
        self.clock.advance(1 / 24)  # moto stamps roles with the real time; the pruner looks a little later
        self.stub = AccessAdvisorStub(self.clock)
        self.stub.client.meta.events.register("provide-client-params", recorder.hook(HOME_ACCOUNT))
        self.runtime: PruneRuntime = build_prune_runtime(
            logging.getLogger("iamwarden"),
            function_environment("PruneWorkerFunction") | function_environment("PrunePlannerFunction"),
            factory=factory,
            clock=self.clock,
            catalogue=CATALOGUE,
            advisor_for=lambda _iam: self.stub.advisor(),
        )
        self.handlers = {name: load(name) for name in ("prune_planner", "prune_worker", "prune_watch")}
        for handler in self.handlers.values():
            setattr(handler, "RUNTIME", self.runtime)  # noqa: B010 - the container-wide runtime, wired here

    def invoke(self, name: str, event: dict[str, Any]) -> Any:
        return self.handlers[name].lambda_handler(event, FakeLambdaContext())

    def seed_ledger(self, iam: Any, account: str, role_arn: str) -> None:
        """The pruner has watched the role's grants for 30 days (past the warm-up)."""
        store = PruneStore(self.account.dynamodb, self.runtime.table)
        ledger = updated_ledger(IamReader(iam).role(role_arn), {}, self.clock.now - timedelta(days=30))
        store.save_role(store.role(account, role_arn)._replace(ledger=ledger), self.clock.now)

    def access_advisor(self, role_arn: str, grants: dict[str, list[str]]) -> None:
        """Access Advisor: s3 used three days ago, ec2, sqs, sts and logs not in 200 days; ``grants`` says which
        policies grant the unused services."""
        used = self.clock.now - timedelta(days=3)
        self.stub.generate(role_arn)
        self.stub.page(
            [
                service("s3", used, {"GetBucketTagging": None, "GetBucketPolicy": used, "CreateBucket": None}),
                service("ec2", None, {"RunInstances": None, "DescribeInstances": None}),
                service("sqs", self.clock.now - timedelta(days=200)),
                service("sts", None),
                service("logs", None),
            ],
            next_marker="page-2",
        )
        self.stub.page([service("dynamodb", None)], marker="page-2")
        self.stub.granting(role_arn, {namespace: grants.get(namespace, []) for namespace in UNUSED_SERVICES})

    def reread(self, role_arn: str) -> None:
        """Access Advisor asked again on the apply date (review s11 F8): the same picture, one page."""
        used = self.clock.now - timedelta(days=3)
        self.stub.generate(role_arn)
        self.stub.page(
            [
                service("s3", used, {"GetBucketTagging": None, "GetBucketPolicy": used, "CreateBucket": None}),
                service("ec2", None, {"RunInstances": None, "DescribeInstances": None}),
                service("sqs", self.clock.now - timedelta(days=200)),
                service("sts", None),
                service("logs", None),
                service("dynamodb", None),
            ]
        )


#: The services ``Pruning.access_advisor`` reports unused: the pruner asks which policies grant each.
UNUSED_SERVICES = ("dynamodb", "ec2", "logs", "sqs", "sts")


def _roles(account: Account) -> dict[str, tuple[str, dict[str, list[str]]]]:
    """Roles whose prunes take every path of the executor: name -> (ARN, Access Advisor's granting policies)."""
    iam = account.iam
    roles: dict[str, tuple[str, dict[str, list[str]]]] = {}
    unused = ("dynamodb", "ec2", "sqs", "sts")
    # an inline policy rewritten (owner tag: the team's topic gets the notices)
    arn = create_role(iam, "orders-api", {"main": MAIN}, tags={"owner": "orders"})
    roles["orders-api"] = (arn, {key: ["inline:main"] for key in unused})
    # an inline policy granting only unused services: deleted
    arn = create_role(iam, "batch-legacy", {"legacy": document(allow("ec2:*"), allow("sqs:*"))})
    roles["batch-legacy"] = (arn, {"ec2": ["inline:legacy"], "sqs": ["inline:legacy"]})
    # a customer-managed policy at IAM's five-version limit: the oldest version goes, a new default comes
    arn = create_role(iam, "reports")
    versioned = iam.create_policy(
        PolicyName="reports-policy", PolicyDocument=json.dumps(document(allow("s3:GetObject")))
    )
    for _ in range(3):
        iam.create_policy_version(
            PolicyArn=versioned["Policy"]["Arn"], PolicyDocument=json.dumps(document(allow("s3:GetObject")))
        )
    # (no s3 in it: a policy needing a Deny gets a role-scoped copy instead, review s12 F1)
    no_deny = document(allow("ec2:*"), allow("sqs:*", Sid="NOPRUNEQueue"), allow("sts:*"))
    iam.create_policy_version(
        PolicyArn=versioned["Policy"]["Arn"], PolicyDocument=json.dumps(no_deny), SetAsDefault=True
    )
    iam.attach_role_policy(RoleName="reports", PolicyArn=versioned["Policy"]["Arn"])
    roles["reports"] = (arn, {key: [versioned["Policy"]["Arn"]] for key in unused})
    # a policy shared with another role: a pruned copy replaces it on this role only;
    # an AWS-managed policy whose only service is unused: detached
    arn = create_role(iam, "billing")
    create_role(iam, "billing-other")
    shared = iam.create_policy(PolicyName="billing-shared", PolicyDocument=json.dumps(MAIN))["Policy"]["Arn"]
    for name in ("billing", "billing-other"):
        iam.attach_role_policy(RoleName=name, PolicyArn=shared)
    iam.attach_role_policy(RoleName="billing", PolicyArn=LAMBDA_BASIC)
    roles["billing"] = (arn, {**{key: [shared] for key in unused}, "logs": [LAMBDA_BASIC]})
    # IAM Warden's own role: the planner never sends it
    create_role(iam, "iamwarden-enforcer-us-east-1", {"main": MAIN})
    return roles


def _settings(account: Account) -> None:
    for name, value in {
        "prune/mode": "enforce",
        "prune/min_role_age_days": "0",
        "alerts/teams/orders/sns_topic_arn": TEAM_TOPIC,
    }.items():
        account.set(name, value)
    account.session.client("sns").create_topic(Name=TEAM_TOPIC.rsplit(":", 1)[1])


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def pruning(account: Account, recorder: Recorder) -> Pruning:
    """Registered on the session before any of the pruner's clients exist (clients copy the session's hooks)."""
    account.session.events.register("provide-client-params", recorder.hook(HOME_ACCOUNT))
    factory = ClientFactory(HOME_ACCOUNT, MEMBER_ROLE, session=account.session)
    return Pruning(account, recorder, factory)


def _assert_holds(calls: list[Call], policies: dict[str, list[dict[str, Any]]], unreached: dict[Grant, str]) -> None:
    """Every call allowed, every grant of ``policies`` used or listed (entries of other roles' policies aside);
    and the proof can fail: taking away any statement whose grants a call used leaves some call denied."""
    listed = {grant: why for grant, why in unreached.items() if grant.policy in policies}
    report = check(calls, policies, listed)
    assert report.holds, f"\n{report}"
    needed = {(grant.policy, grant.sid) for grant in grants_of(policies) if grant not in listed}
    for policy, sid in sorted(needed):
        narrower = {
            name: [statement for statement in statements if (name, statement.get("Sid", "")) != (policy, sid)]
            for name, statements in policies.items()
        }
        assert check(calls, narrower, {}).denied, f"without {policy}/{sid} every call is still allowed"


def test_the_pruner_role_allows_every_call_of_its_three_functions_and_grants_nothing_unused(
    account: Account, pruning: Pruning, recorder: Recorder
) -> None:
    recorder.paused = True
    _settings(account)
    roles = _roles(account)
    for arn, _ in roles.values():
        pruning.seed_ledger(account.iam, HOME_ACCOUNT, arn)
    recorder.paused = False

    planned = pruning.invoke("prune_planner", {"source": "aws.events", "detail-type": "Scheduled Event"})
    recorder.paused = True
    bodies = []
    while batch := account.sqs.receive_message(QueueUrl=pruning.runtime.queue_url, MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        for message in batch:
            bodies.append(message["Body"])
            account.sqs.delete_message(QueueUrl=pruning.runtime.queue_url, ReceiptHandle=message["ReceiptHandle"])
    recorder.paused = False

    assert planned["sent"] == len(roles) + 1  # every role but IAM Warden's own (billing-other too)
    by_arn = dict(roles.values())
    outcomes: dict[str, str] = {}
    for body in bodies:
        role_arn = json.loads(body)["role_arn"]
        if role_arn in by_arn:  # billing-other was never seen before: warming up, Access Advisor is not asked
            pruning.access_advisor(role_arn, by_arn[role_arn])
        assert pruning.invoke("prune_worker", sqs_event(body)) == {"batchItemFailures": []}
        outcomes[role_arn] = pruning.runtime.store().role(HOME_ACCOUNT, role_arn).last_outcome or ""
    pruning.stub.stubber.assert_no_pending_responses()
    assert sorted(outcomes[arn] for arn in by_arn) == ["announced"] * 4

    pruning.clock.advance(7)
    for body in bodies:
        if json.loads(body)["role_arn"] in by_arn:
            pruning.reread(json.loads(body)["role_arn"])
        assert pruning.invoke("prune_worker", sqs_event(body)) == {"batchItemFailures": []}
    applied = {arn: pruning.runtime.store().role(HOME_ACCOUNT, arn).last_outcome for arn in by_arn}
    assert set(applied.values()) == {"applied"}, applied

    denied = {
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.ec2",
        "detail": {
            "eventSource": "ec2.amazonaws.com",
            "eventName": "RunInstances",
            "errorCode": "Client.UnauthorizedOperation",
            "userIdentity": {
                "type": "AssumedRole",
                "sessionContext": {"sessionIssuer": {"type": "Role", "arn": roles["orders-api"][0]}},
            },
        },
    }
    assert pruning.invoke("prune_watch", denied)["notified"] is True

    calls = recorder.take()
    actions = {call.action for call in calls}
    assert {"iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:CreatePolicy", "iam:DeletePolicyVersion"} <= actions
    assert {call.resource for call in calls if call.action == "sns:Publish"} == {
        function_environment("PruneWatchFunction")["IAMWARDEN_ALERT_TOPIC_ARN"],
        TEAM_TOPIC,
    }
    _assert_holds(calls, role_policies("PrunerRole"), UNREACHED)


def test_undoing_a_prune_needs_what_the_pruner_role_is_not_given(
    account: Account, pruning: Pruning, recorder: Recorder
) -> None:
    """``iamwarden prune rollback`` runs with the operator's credentials: its deletes of pruned copies are not
    the functions' to make, so the role does not carry them."""
    recorder.paused = True
    _settings(account)
    roles = _roles(account)
    arn, grants = roles["billing"]
    pruning.seed_ledger(account.iam, HOME_ACCOUNT, arn)
    pruning.access_advisor(arn, grants)
    body = json.dumps({"account": HOME_ACCOUNT, "role_arn": arn})
    pruning.invoke("prune_worker", sqs_event(body))
    pruning.clock.advance(7)
    pruning.reread(arn)
    pruning.invoke("prune_worker", sqs_event(body))
    plan_id = pruning.runtime.store().role(HOME_ACCOUNT, arn).last_applied_plan_id
    assert plan_id
    pruner, _ = pruning.runtime.pruner()
    recorder.paused = False

    rolled, _ = pruner.rollback(plan_id)

    assert rolled.status.value == "rolled_back"
    report = check(recorder.take(), role_policies("PrunerRole"), {})
    assert {call.action for call in report.denied} == {"iam:DeletePolicy"}


def test_the_member_pruner_role_allows_every_call_the_worker_makes_there(
    account: Account, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a member account the pruner assumes iamwarden-pruner-member (member/template.yaml): the worker's calls
    there are checked against that role, the AssumeRole against the central role's pruner-member-accounts."""
    account.session.events.register("provide-client-params", recorder.hook(HOME_ACCOUNT))
    session_with = ClientFactory.session_with

    def recorded(credentials: Any, region: str) -> boto3.Session:
        session = session_with(credentials, region)
        session.events.register("provide-client-params", recorder.hook(MEMBER))
        return session

    monkeypatch.setattr(ClientFactory, "session_with", staticmethod(recorded))
    pruning = Pruning(account, recorder, ClientFactory(HOME_ACCOUNT, MEMBER_ROLE, session=account.session))
    recorder.paused = True
    _settings(account)
    member_iam = ClientFactory(HOME_ACCOUNT, MEMBER_ROLE, session=account.session).client("iam", MEMBER, REGION)
    arn = create_role(member_iam, "member-app", {"main": MAIN}, tags={"owner": "orders"})
    versioned = member_iam.create_policy(PolicyName="member-shared", PolicyDocument=json.dumps(MAIN))["Policy"]["Arn"]
    create_role(member_iam, "member-other")
    for name in ("member-app", "member-other"):
        member_iam.attach_role_policy(RoleName=name, PolicyArn=versioned)
    pruning.seed_ledger(member_iam, MEMBER, arn)
    pruning.access_advisor(arn, {key: ["inline:main", versioned] for key in ("dynamodb", "ec2", "sqs", "sts")})
    recorder.take(MEMBER)
    recorder.paused = False

    body = json.dumps({"account": MEMBER, "role_arn": arn})
    pruning.invoke("prune_worker", sqs_event(body))
    pruning.clock.advance(7)
    pruning.reread(arn)
    pruning.invoke("prune_worker", sqs_event(body))

    assert pruning.runtime.store().role(MEMBER, arn).last_outcome == "applied"
    member_calls = recorder.take(MEMBER)
    assert {"iam:PutRolePolicy", "iam:CreatePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy"} <= {
        call.action for call in member_calls
    }
    member_report = check(member_calls, member_role_policies(), {})
    assert not member_report.denied, f"\n{member_report}"
    home = [call for call in recorder.take() if call.action == "sts:AssumeRole"]
    assert home
    assert not check(home, role_policies("PrunerRole"), {}).denied


def test_the_pruner_roles_deny_exactly_iam_wardens_own_roles_and_let_a_look_alike_be_pruned() -> None:
    """Review s11 R6: NeverTouchOwnRoles named every ``iamwarden-*`` role, so a look-alike's plan (F4) could never
    be applied. Now the Deny names IAM Warden's roles, in the security account and in a member account."""
    edits = ("iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy")

    def denied(policies: dict[str, list[dict[str, Any]]], account: str, name: str) -> set[str]:
        calls = [Call(action, f"arn:aws:iam::{account}:role/{name}") for action in edits]
        return {call.action for call in check(calls, policies, {}).denied}

    home = role_policies("PrunerRole")
    for look_alike in ("iamwarden-backdoor", "iamwarden-remediatorx", "iamwarden-snapshot-reader-2"):
        assert denied(home, HOME_ACCOUNT, look_alike) == set(), look_alike
    own = (
        f"iamwarden-enforcer-{REGION}",
        f"iamwarden-pruner-{REGION}",
        "iamwarden-pruner-member",
        f"iamwarden-event-forwarder-{REGION}",
        f"iamwarden-heartbeat-{REGION}",
        f"iamwarden-exception-watch-{REGION}",
        f"iamwarden-slack-interactions-{REGION}",
        "iamwarden-member-forwarder-eu-west-1",  # the member stack in the security account's other regions
        "iamwarden-snapshot-reader",
        "iamwarden-remediator",
    )
    for name in own:
        assert denied(home, HOME_ACCOUNT, name) == set(edits), name
    member = member_role_policies()
    assert denied(member, MEMBER, "iamwarden-backdoor") == set()
    for name in (*MEMBER_STACK_ROLES, "iamwarden-member-forwarder-us-east-1"):
        assert denied(member, MEMBER, name) == set(edits), name


# --- the heartbeat ----------------------------------------------------------------------------------------


def _detection(guardduty: Any, config: Any, bucket: str) -> None:
    """An enabled GuardDuty detector and a recording AWS Config recorder: the heartbeat's snapshots read both."""
    guardduty.create_detector(Enable=True)
    recorder = {
        "name": "default",
        "roleARN": "arn:aws:iam::111122223333:role/config-recorder",
        "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True},
    }
    config.put_configuration_recorder(ConfigurationRecorder=recorder)
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": bucket})
    config.start_configuration_recorder(ConfigurationRecorderName="default")


def test_the_heartbeat_role_allows_every_call_of_a_whole_and_a_broken_loop_and_grants_nothing_unused(
    loop: Loop,  # noqa: F811 - the fixture imported above
    recorder: Recorder,
) -> None:
    session = loop.account.session
    # What the snapshots read: a trail, and IAM Warden's roles with an inline policy each.
    bucket = "org-trail-logs"
    session.client("s3", region_name=REGION).create_bucket(Bucket=bucket)
    session.client("cloudtrail", region_name=REGION).create_trail(Name="org-audit", S3BucketName=bucket)
    session.client("cloudtrail", region_name=REGION).start_logging(Name="org-audit")  # the heartbeat checks one logs
    # A multi-region trail homed in another region: the heartbeat reads it there (its home region).
    session.client("cloudtrail", region_name="eu-west-1").create_trail(
        Name="eu-audit", S3BucketName=bucket, IsMultiRegionTrail=True
    )
    # An enabled detector and a recording recorder there: read in that trail home region too.
    _detection(
        session.client("guardduty", region_name="eu-west-1"), session.client("config", region_name="eu-west-1"), bucket
    )
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    )
    iam = loop.account.iam
    _identity_providers(iam)
    existing = {role["RoleName"] for role in iam.list_roles()["Roles"]}
    own_roles = (
        "iamwarden-enforcer-us-east-1",
        "iamwarden-pruner-us-east-1",
        "iamwarden-heartbeat-us-east-1",
        "iamwarden-exception-watch-us-east-1",
        "iamwarden-slack-interactions-us-east-1",
        "iamwarden-event-forwarder-us-east-1",
    )
    for role in own_roles:
        if role not in existing:
            iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust)
        if role != "iamwarden-event-forwarder-us-east-1":  # the loop's is as declared (the heartbeat compares it)
            # A policy the template declares on the role but not whole (the heartbeat compares those it does).
            name = role.removeprefix("iamwarden-").removesuffix("-us-east-1")
            runtime = f"{name}-runtime" if name in ("enforcer", "pruner") else name
            iam.put_role_policy(RoleName=role, PolicyName=runtime, PolicyDocument=json.dumps(MAIN))
    # The central bus's policy as the template declares it with an organisation (the heartbeat reads it).
    organization = "o-a1b2c3d4e5"
    loop.events.put_permission(
        EventBusName="iamwarden-central",
        Action="events:PutEvents",
        Principal="*",
        StatementId="OrganizationAccountsPutEvents",
        Condition={"Type": "StringEquals", "Key": "aws:PrincipalOrgID", "Value": organization},
    )
    session.events.register("provide-client-params", recorder.hook(HOME_ACCOUNT))
    heartbeat = build_heartbeat(session, _heartbeat_environment(loop))
    # The loop's stand-in targets (moto's Lambda cannot be a target), with an organisation.
    heartbeat.config = loop.heartbeat.config._replace(organization_id=organization)

    whole = heartbeat.run()
    recorder.paused = True
    loop.events.disable_rule(Name="iamwarden-forward-own-events")
    loop.account.set("enforcement", "off")  # by the test's caller, no operator: who wrote it is read
    recorder.paused = False
    heartbeat = build_heartbeat(session, _heartbeat_environment(loop))  # its settings read afresh
    heartbeat.config = loop.heartbeat.config._replace(organization_id=organization)
    broken = heartbeat.run()

    assert whole["problems"] == []
    assert whole["whole"] is True
    assert whole["snapshots"] > 0  # the trail, boundary and own-role snapshots were read and written
    assert broken["whole"] is False
    assert any("kill switch" in problem for problem in broken["problems"])
    calls = recorder.take()
    assert "sns:Publish" in {call.action for call in calls}
    assert f"arn:aws:cloudtrail:eu-west-1:{HOME_ACCOUNT}:trail/eu-audit" in {
        call.resource for call in calls if call.action == "cloudtrail:GetEventSelectors"
    }
    buses = {call.resource.split(":rule/", 1)[1].count("/") for call in calls if call.action == "events:DescribeRule"}
    assert buses == {0, 1}  # rules of the default bus and of the central bus
    # Deployed with the organisation this heartbeat runs with: its member reads are scoped to the organisation's
    # accounts (aws:ResourceOrgID), which every account of the loop belongs to.
    calls = [call._replace(context={**call.context, "aws:ResourceOrgID": organization}) for call in calls]
    # The loop manages a member account too (test_attacker's), so its member reads are reached here.
    reached = {grant: why for grant, why in UNREACHED.items() if grant.sid != "ReadMemberAccountsForSnapshots"}
    reached[_grant("heartbeat", "ReadOwnStackStatus", "cloudformation:DescribeStacks", _OWN_STACK)] = (
        "only for CloudFormation's deploy request: tests/functional/test_deploy_snapshot.py"
    )
    reached[_grant("heartbeat", "ReadOwnStackStatus", "cloudformation:ListStackResources", _OWN_STACK)] = (
        "only when an own function runs changed code: tests/functional/test_heartbeat_own_function_guard.py"
    )
    for table in ("iamwarden-audit", "iamwarden-exceptions"):  # the loop's heartbeat is given no DynamoDB client
        table_arn = f"arn:aws:dynamodb:{REGION}:{HOME_ACCOUNT}:table/{table}"
        reached[_grant("heartbeat", "ReadOwnTablePolicies", "dynamodb:GetResourcePolicy", table_arn)] = (
            "the tables' resource policies: tests/functional/test_audit_table_policy.py"
        )
    # What the heartbeat puts right on its own functions acts only with the kill switch on (this broken loop's is
    # off): tests/functional/test_heartbeat_own_function_guard.py runs each.
    guarded = "only when it puts an own function right: tests/functional/test_heartbeat_own_function_guard.py"
    functions = f"arn:aws:lambda:{REGION}:{HOME_ACCOUNT}:function:iamwarden-"
    own = ("enforcer", "exception-watch", "heartbeat", "prune-planner", "prune-watch", "prune-worker")
    for function in (*own, "slack-interactions"):  # each own function by exact name (review 15 finding 12)
        grant = _grant(
            "heartbeat", "PutRightOwnFunctionPermissionsAndUrls", "lambda:RemovePermission", functions + function
        )
        reached[grant] = guarded
    for function in own:  # the Slack endpoint's URL is declared: never read nor deleted
        grant = _grant(
            "heartbeat", "DeleteUndeclaredOwnFunctionUrls", "lambda:DeleteFunctionUrlConfig", functions + function
        )
        reached[grant] = guarded
    for function in ("exception-watch", "prune-planner", "prune-watch", "prune-worker", "slack-interactions"):
        for action in ("lambda:GetFunctionConcurrency", "lambda:PutFunctionConcurrency"):
            reached[_grant("heartbeat", "StopOwnFunctionsWithChangedCode", action, functions + function)] = guarded
    audit = f"arn:aws:dynamodb:{REGION}:{HOME_ACCOUNT}:table/iamwarden-audit"
    reached[_grant("heartbeat", "RecordWhatItPutsRight", "dynamodb:UpdateItem", audit)] = guarded
    reached[_grant("heartbeat", "ReadOwnFunctionUrlUndos", "dynamodb:Query", audit + "/index/by-resource")] = guarded
    fallback = f"arn:aws:sns:{REGION}:{HOME_ACCOUNT}:iamwarden-alerts-fallback"
    reached[_grant("heartbeat", "AlertTheSecurityChannel", "sns:Publish", fallback)] = (
        "only when the alert topic refuses: tests/functional/test_alerts_fallback.py"
    )
    _assert_holds(calls, role_policies("HeartbeatRole", {"OrganizationId": organization}), reached)


def _identity_providers(iam: Any) -> None:
    """An OIDC and a SAML provider, whose thumbprints and metadata the heartbeat snapshots."""
    iam.create_open_id_connect_provider(
        Url="https://oidc.ci-runner.example.net", ClientIDList=["sts.amazonaws.com"], ThumbprintList=["0" * 40]
    )
    metadata = load_event("create-saml-provider-unknown.json")["detail"]["requestParameters"]["sAMLMetadataDocument"]
    iam.create_saml_provider(Name="corp-sso", SAMLMetadataDocument=metadata)


def _heartbeat_environment(deployed: Loop) -> dict[str, str]:
    """The heartbeat function's environment from the template, as the loop fixture resolves it."""
    environment = translated_template()["Resources"]["HeartbeatFunction"]["Properties"]["Environment"]["Variables"]
    config = deployed.heartbeat.config
    names = {
        "EnforcerFunction.Arn": config.enforcer_arn,
        "CentralEventBus.Arn": config.central_bus_arn,
        "PrunePlannerFunction.Arn": str(config.prune_planner_arn),
        "PruneWatchFunction.Arn": str(config.prune_watch_arn),
        "ExceptionWatchFunction.Arn": str(config.exception_watch_arn),
    }
    resolved = {name: str(resolve(value, names)) for name, value in environment.items()}
    return {**resolved, "AWS_REGION": REGION}  # Lambda's own variable: the heartbeat then refreshes the snapshots


def test_the_member_snapshot_reader_role_allows_every_call_the_heartbeat_makes_there_and_grants_nothing_unused(
    account: Account, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a member account the heartbeat reads trails and boundaries through iamwarden-snapshot-reader
    (member/template.yaml): its calls there are checked against that role, and every grant of it is used."""
    session_with = ClientFactory.session_with

    def recorded(credentials: Any, region: str) -> boto3.Session:
        session = session_with(credentials, region)
        session.events.register("provide-client-params", recorder.hook(MEMBER))
        return session

    monkeypatch.setattr(ClientFactory, "session_with", staticmethod(recorded))
    recorder.paused = True
    account.set("managed_accounts", f"{HOME_ACCOUNT},{MEMBER}")
    member = ClientFactory(HOME_ACCOUNT, "iamwarden-snapshot-reader", session=account.session)
    member.client("s3", MEMBER, REGION).create_bucket(Bucket="member-trail-logs")
    cloudtrail = member.client("cloudtrail", MEMBER, REGION)
    cloudtrail.create_trail(Name="org-audit", S3BucketName="member-trail-logs")
    cloudtrail.start_logging(Name="org-audit")
    elsewhere = member.client("cloudtrail", MEMBER, "eu-west-1")
    elsewhere.create_trail(Name="eu-audit", S3BucketName="member-trail-logs", IsMultiRegionTrail=True)
    elsewhere.start_logging(Name="eu-audit")
    member_iam = member.client("iam", MEMBER, REGION)
    _identity_providers(member_iam)
    trust = {  # as the member template declares it: the security account only (else never snapshotted)
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{HOME_ACCOUNT}:root"}, "Action": "sts:AssumeRole"}
        ],
    }
    for role in MEMBER_STACK_ROLES:
        member_iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))
        member_iam.put_role_policy(RoleName=role, PolicyName="context", PolicyDocument=json.dumps(MAIN))
    from tests.functional.test_heartbeat_member_snapshots import create_member_forwarding

    create_member_forwarding(member.client("events", MEMBER, REGION), MEMBER, member.client("iam", MEMBER, REGION))
    _detection(member.client("guardduty", MEMBER, REGION), member.client("config", MEMBER, REGION), "member-trail-logs")
    recorder.take(MEMBER)
    recorder.paused = False
    environment = {
        **{
            name: str(resolve(value, {}))
            for name, value in translated_template()["Resources"]["HeartbeatFunction"]["Properties"]["Environment"][
                "Variables"
            ].items()
            if (isinstance(value, str) and name != "IAMWARDEN_OWN_FUNCTION_ROLES")  # the role ARNs are not resolved
            or name in ("IAMWARDEN_SETTINGS_PREFIX", "IAMWARDEN_HOME_ACCOUNT", "IAMWARDEN_MEMBER_ROLE_NAMES")
        },
        "IAMWARDEN_OWN_RULES": "iamwarden-heartbeat",
        "IAMWARDEN_ENFORCER_ARN": f"arn:aws:lambda:{REGION}:{HOME_ACCOUNT}:function:iamwarden-enforcer",
        "IAMWARDEN_CENTRAL_BUS_ARN": f"arn:aws:events:{REGION}:{HOME_ACCOUNT}:event-bus/iamwarden-central",
        "IAMWARDEN_ENFORCER_ROLE_NAME": "iamwarden-enforcer",
        "IAMWARDEN_ALERT_TOPIC_ARN": f"arn:aws:sns:{REGION}:{HOME_ACCOUNT}:iamwarden-alerts",
        "IAMWARDEN_AUDIT_TABLE": account.config.audit_table,
        "AWS_REGION": REGION,
    }
    heartbeat = build_heartbeat(account.session, environment)
    assert heartbeat.member_snapshots is not None

    stored, problems = heartbeat.member_snapshots.refresh()

    assert problems == []
    assert stored >= 1
    template = member_template()
    role = template["Resources"]["SnapshotReaderRole"]["Properties"]
    names = {
        "AWS::AccountId": MEMBER,
        **{name: parameter["Default"] for name, parameter in template["Parameters"].items() if "Default" in parameter},
    }
    policies = {p["PolicyName"]: resolve(p["PolicyDocument"]["Statement"], names) for p in role["Policies"]}
    calls = recorder.take(MEMBER)
    assert {
        "cloudtrail:GetEventSelectors",
        "iam:GetAccountAuthorizationDetails",
        "iam:GetOpenIDConnectProvider",
        "iam:GetSAMLProvider",
        "iam:GetRole",
        "iam:ListRolePolicies",
        "iam:GetRolePolicy",
        # Block Public Access records (app.public_access_seed): the account's, its buckets', through this role.
        "s3:ListAllMyBuckets",
        "s3:GetAccountPublicAccessBlock",
        "s3:GetBucketPublicAccessBlock",
    } <= {call.action for call in calls}
    assert {call.resource for call in calls if call.action == "s3:GetBucketPublicAccessBlock"} == {
        "arn:aws:s3:::member-trail-logs"
    }
    assert f"arn:aws:cloudtrail:eu-west-1:{MEMBER}:trail/eu-audit" in {
        call.resource for call in calls if call.action == "cloudtrail:GetEventSelectors"
    }, "the trail homed in another region is read there"
    read = {call.resource for call in calls if call.action == "iam:GetRolePolicy"}
    forwarder = f"iamwarden-member-forwarder-{REGION}"  # compared whole each run (MemberForwarding.path_problems)
    assert read == {f"arn:aws:iam::{MEMBER}:role/{role}" for role in (*MEMBER_STACK_ROLES, forwarder)}, (
        "the member stack's roles"
    )
    assert "cloudwatch:GetMetricData" in {call.action for call in calls}
    enabled_regions = _grant("snapshots", "ReadEnabledRegions", "ec2:DescribeRegions", "*")
    _assert_holds(
        calls,
        policies,
        {
            enabled_regions: "read only where the member StackSet's instances are listed (none here): "
            "tests/functional/test_heartbeat_member_coverage.py reads it against this role"
        },
    )
