"""Lambda functions and layers opened outside the organisation.

* ``lambda-permission-public`` and ``lambda-permission-cross-account``: ``AddPermission``
  (CloudTrail names it ``AddPermission20150331v2``, or ``AddPermission20150331`` for the
  older path) adds one statement to a function's policy, and ``AddLayerVersionPermission``
  (``AddLayerVersionPermission20181031``) one to a layer version's. The request names the
  principal, the action and the conditions (``sourceArn``, ``sourceAccount``,
  ``principalOrgID``, ``functionUrlAuthType``; a layer's ``organizationId``); the response
  carries the statement Lambda wrote, which is judged when present. The remediation
  removes exactly that statement by its id (``RemovePermission``,
  ``RemoveLayerVersionPermission``); undo adds it back with the event's parameters.
* ``lambda-function-url-public``: ``CreateFunctionUrlConfig20211031`` or
  ``UpdateFunctionUrlConfig20211031`` with ``authType`` ``NONE``. Lambda then skips IAM
  authentication, and anyone can call the URL whom the function's policy lets call
  ``lambda:InvokeFunctionUrl`` unsigned: a statement open to everyone. That policy is not in
  the event, so the enforcer reads it live; offline the finding says it could not
  (``needs_context``) and is never remediated. The remediation sets the URL's auth type
  back to ``AWS_IAM``; undo sets ``NONE`` again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from iamwarden.adapters.errors import classify, error_code, ignoring, is_aws_error
from iamwarden.domain.canonical import canonical
from iamwarden.domain.catalog import RuleSpec, Severity
from iamwarden.domain.documents import PolicyKind
from iamwarden.domain.exceptions import InvalidEventError, UndoError
from iamwarden.domain.exposure import exposure_of
from iamwarden.domain.findings import RemediationStep, StepAction
from iamwarden.domain.policy import parse_policy
from iamwarden.guardrails.base import Evaluation, RuleContext
from iamwarden.guardrails.remediation import AccountClients, Permissions, StepRun
from iamwarden.guardrails.resource_policy import NewPolicy, PolicyResource, ResourcePolicyRule

ADD_PERMISSION = frozenset({"AddPermission20150331v2", "AddPermission20150331"})
ADD_LAYER_VERSION_PERMISSION = "AddLayerVersionPermission20181031"
_PERMISSION_EVENTS = ADD_PERMISSION | {ADD_LAYER_VERSION_PERMISSION}
_URL_EVENTS = frozenset({"CreateFunctionUrlConfig20211031", "UpdateFunctionUrlConfig20211031"})
_NOT_FOUND = "ResourceNotFoundException"

LAMBDA_PERMISSION_PUBLIC = RuleSpec(
    id="lambda-permission-public",
    resource_types=frozenset({"AWS::Lambda::Function", "AWS::Lambda::LayerVersion"}),
    title="Lambda function or layer open to the public",
    event_source="lambda.amazonaws.com",
    event_names=_PERMISSION_EVENTS,
    risk=(
        "A function or layer permission that lets in everyone lets anyone on the internet invoke the function "
        "(with its role's access) or download the layer's code."
    ),
    alert_risk=(
        "Anyone on the internet can use what this permission grants: invoke the function, which then acts with "
        "its role's access to our data, or download the layer's code and whatever secrets it holds."
    ),
)

LAMBDA_PERMISSION_CROSS_ACCOUNT = RuleSpec(
    id="lambda-permission-cross-account",
    resource_types=frozenset({"AWS::Lambda::Function", "AWS::Lambda::LayerVersion"}),
    title="Lambda function or layer shared with an untrusted account",
    event_source="lambda.amazonaws.com",
    event_names=_PERMISSION_EVENTS,
    risk=(
        "A function or layer permission for accounts outside the organisation lets people this organisation "
        "does not control invoke the function or read the layer's code."
    ),
    alert_risk=(
        "People in accounts outside this organisation can invoke this function (with its role's access) or "
        "read this layer's code, and we can neither see nor control who they are."
    ),
)

LAMBDA_FUNCTION_URL_PUBLIC = RuleSpec(
    id="lambda-function-url-public",
    resource_types=frozenset({"AWS::Lambda::Function"}),
    title="Lambda function URL without authentication",
    event_source="lambda.amazonaws.com",
    event_names=_URL_EVENTS,
    risk=(
        "A function URL with auth type NONE, whose function policy lets everyone invoke it, is a public HTTPS "
        "endpoint: anyone on the internet can run the function with its role's access."
    ),
    alert_risk=(
        "Anyone on the internet who finds this URL can run the function without signing in, and the function "
        "acts with its role's access to our data and systems."
    ),
)


def function_arn(partition: str, region: str, account: str, name: str, qualifier: str | None = None) -> str:
    """The ARN of the function (or version or alias) a request names by name, partial ARN or ARN.

    Lambda's ``FunctionName`` takes ``orders``, ``orders:prod`` (a name with its alias or version),
    ``111122223333:function:orders[:prod]`` and the whole ARN (Lambda API reference, AddPermission).
    """
    if name.startswith("arn:"):
        arn = name
    elif name.count(":") == 1:  # a name with its qualifier: orders:prod, orders:7
        arn = f"arn:{partition}:lambda:{region}:{account}:function:{name}"
    elif ":" in name:  # a partial ARN: 111122223333:function:orders
        arn = f"arn:{partition}:lambda:{region}:{name}"
    else:
        arn = f"arn:{partition}:lambda:{region}:{account}:function:{name}"
    fields = arn.split(":")
    if len(fields) not in (7, 8) or fields[2] != "lambda" or fields[5] != "function" or not fields[6]:
        raise InvalidEventError(f"{name!r} does not name a Lambda function")
    if qualifier and len(fields) == 7:
        arn = f"{arn}:{qualifier}"
    return arn


def layer_version_arn(partition: str, region: str, account: str, layer: str, version: object) -> str:
    """The ARN of a layer version (``...:layer:name:3``) from its layer name or ARN and its number."""
    if isinstance(version, bool) or not isinstance(version, int | str) or not str(version).isdigit():
        raise InvalidEventError("detail.requestParameters.versionNumber must be a layer version number")
    arn = layer if layer.startswith("arn:") else f"arn:{partition}:lambda:{region}:{account}:layer:{layer}"
    fields = arn.split(":")
    if len(fields) != 7 or fields[2] != "lambda" or fields[5] != "layer" or not fields[6]:
        raise InvalidEventError(f"{layer!r} does not name a Lambda layer")
    return f"{arn}:{version}"


#: The AddPermission request parameters that undo passes back (CloudTrail's camelCase -> boto3's names).
_FUNCTION_PERMISSION = {
    "action": "Action",
    "principal": "Principal",
    "sourceArn": "SourceArn",
    "sourceAccount": "SourceAccount",
    "principalOrgID": "PrincipalOrgID",
    "functionUrlAuthType": "FunctionUrlAuthType",
    "eventSourceToken": "EventSourceToken",
}
_LAYER_PERMISSION = {"action": "Action", "principal": "Principal", "organizationId": "OrganizationId"}

LAMBDA = PolicyResource(
    noun="function",
    name_parameter="functionName",
    document_parameter="statement",
    kind=PolicyKind.FUNCTION,
    arn=function_arn,
    step_parameter="resource",
    resource_type="AWS::Lambda::Function",
    service_wildcard="lambda:*",
    verbs=(
        ("lambda:InvokeFunctionUrl", "call the URL"),
        ("lambda:InvokeFunction", "run code"),
        ("lambda:GetLayerVersion", "download code"),
        ("lambda:GetFunction", "download code"),
    ),
)


def _split_function(arn: str) -> dict[str, str]:
    """``FunctionName`` (the unqualified ARN) and, for a version or alias, ``Qualifier``."""
    fields = arn.split(":")
    return {"FunctionName": ":".join(fields[:7]), **({"Qualifier": fields[7]} if len(fields) == 8 else {})}


def _split_layer(arn: str) -> dict[str, Any]:
    layer, _, version = arn.rpartition(":")
    return {"LayerName": layer, "VersionNumber": int(version)}


def _is_layer(arn: str) -> bool:
    return arn.split(":")[5] == "layer"


class LambdaPermissionRule(ResourcePolicyRule):
    """AddPermission and AddLayerVersionPermission: the one statement each adds, judged like any resource policy."""

    def resource_name(self, context: RuleContext) -> str:
        """The function's or layer version's ARN, which is what the remediation acts on."""
        change = context.change
        request = change.request_parameters
        if change.event_name == ADD_LAYER_VERSION_PERMISSION:
            return layer_version_arn(
                context.partition,
                change.region,
                change.account,
                context.request_text("layerName"),
                request.get("versionNumber"),
            )
        qualifier = request.get("qualifier")
        return function_arn(
            context.partition,
            change.region,
            change.account,
            context.request_text("functionName"),
            qualifier if isinstance(qualifier, str) else None,
        )

    def resource_arn(self, context: RuleContext, name: str) -> str:
        return name

    def describe(self, name: str) -> str:
        return _what(name)

    def new_policy(self, context: RuleContext) -> NewPolicy | None:
        """The statement Lambda wrote (the response's ``statement``), else the one the request describes."""
        written = (context.change.response_elements or {}).get("statement")
        field = "detail.requestParameters"
        if isinstance(written, str) and written:
            field = "detail.responseElements.statement"
            try:
                statement = json.loads(written)
            except ValueError as exc:
                raise InvalidEventError(f"{field} does not parse as JSON: {exc}") from exc
        else:
            statement = self._requested(context)
        return NewPolicy(self.decoded({"Version": "2012-10-17", "Statement": [statement]}, field), by_sid=True)

    def _requested(self, context: RuleContext) -> dict[str, Any]:
        change = context.change
        request = change.request_parameters
        principal = context.request_text("principal")
        account_principal = principal if not principal.isdigit() else f"arn:{context.partition}:iam::{principal}:root"
        statement: dict[str, Any] = {
            "Sid": context.request_text("statementId"),
            "Effect": "Allow",
            "Principal": "*"
            if principal == "*"
            else {"Service": principal}
            if principal.endswith(".amazonaws.com")
            else {"AWS": account_principal},
            "Action": context.request_text("action"),
            "Resource": self.resource_name(context),
        }
        conditions: dict[str, dict[str, str]] = {}
        for key, (operator, condition_key) in {
            "sourceArn": ("ArnLike", "AWS:SourceArn"),
            "sourceAccount": ("StringEquals", "AWS:SourceAccount"),
            "principalOrgID": ("StringEquals", "aws:PrincipalOrgID"),
            "organizationId": ("StringEquals", "aws:PrincipalOrgID"),
            "functionUrlAuthType": ("StringEquals", "lambda:FunctionUrlAuthType"),
        }.items():
            value = request.get(key)
            if isinstance(value, str) and value:
                conditions.setdefault(operator, {})[condition_key] = value
        if conditions:
            statement["Condition"] = conditions
        return statement

    def evaluate(self, context: RuleContext) -> Evaluation:
        """As any resource policy; each step also carries the request, so undo can add the statement back."""
        evaluation = super().evaluate(context)
        names = _LAYER_PERMISSION if context.change.event_name == ADD_LAYER_VERSION_PERMISSION else _FUNCTION_PERMISSION
        request = context.change.request_parameters
        permission = {boto: request[key] for key, boto in names.items() if isinstance(request.get(key), str)}
        evaluation.findings = [
            finding._replace(
                plan=tuple(
                    step._replace(parameters={**step.parameters, "permission": permission}) for step in finding.plan
                )
            )
            for finding in evaluation.findings
        ]
        return evaluation


class RemoveLambdaPermission:
    """Remove the statement an AddPermission (or AddLayerVersionPermission) added, by its id. Undoable.

    Lambda has no call that writes a whole policy: a statement goes by ``RemovePermission`` and comes back by
    ``AddPermission`` with the parameters the event recorded (the plan keeps them).
    """

    permissions: ClassVar[Permissions] = (
        "lambda:GetPolicy",
        "lambda:RemovePermission",
        "lambda:GetLayerVersionPolicy",
        "lambda:RemoveLayerVersionPermission",
    )
    action: ClassVar[StepAction] = StepAction("remove_lambda_permission", permissions)
    undo_permissions: ClassVar[Permissions] = (
        "lambda:GetPolicy",
        "lambda:AddPermission",
        "lambda:GetLayerVersionPolicy",
        "lambda:AddLayerVersionPermission",
    )
    undoable: ClassVar[bool] = True

    def _statements(self, aws: AccountClients, arn: str) -> list[Any]:
        """The live policy's statements (none when the function, layer version or policy is gone)."""
        client = aws.client("lambda")
        try:
            if _is_layer(arn):
                text = client.get_layer_version_policy(**_split_layer(arn))["Policy"]
            else:
                text = client.get_policy(**_split_function(arn))["Policy"]
        except Exception as exc:
            if error_code(exc) == _NOT_FOUND:
                return []
            raise
        statements = json.loads(text).get("Statement", [])
        return list(statements) if isinstance(statements, list) else [statements]

    @staticmethod
    def _sids(step: RemediationStep) -> list[str]:
        return [reference["sid"] for reference in step.parameters["statements"]]

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        sids = self._sids(step)
        live = self._statements(aws, step.parameters["resource"])
        return {"statements": [s for s in live if isinstance(s, dict) and s.get("Sid") in sids]}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        arn = step.parameters["resource"]
        client = run.aws.client("lambda")
        for statement in before["statements"]:
            sid = statement["Sid"]
            with ignoring(_NOT_FOUND):  # removed in the meantime: already done
                if _is_layer(arn):
                    client.remove_layer_version_permission(**_split_layer(arn), StatementId=sid)
                else:
                    client.remove_permission(**_split_function(arn), StatementId=sid)
            done.append(f"removed statement {sid} from the policy of {_what(arn)}")

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        arn = step.parameters["resource"]
        current = {s.get("Sid"): s for s in self._statements(aws, arn) if isinstance(s, dict)}
        restored: list[str] = []
        client = aws.client("lambda")
        for statement in before["statements"]:
            sid = statement["Sid"]
            if sid in current:
                if canonical(current[sid]) == canonical(statement):
                    continue
                raise UndoError(
                    f"the policy of {_what(arn)} now has a different statement {sid}; restore it by hand from the "
                    "audit record"
                )
            permission = dict(step.parameters["permission"])
            if _is_layer(arn):
                client.add_layer_version_permission(**_split_layer(arn), StatementId=sid, **permission)
            else:
                client.add_permission(**_split_function(arn), StatementId=sid, **permission)
            restored.append(f"added statement {sid} back to the policy of {_what(arn)}")
        return restored


def _what(arn: str) -> str:
    fields = arn.split(":")
    if _is_layer(arn):
        return f"layer {fields[6]} version {fields[7]}"
    return f"function {':'.join(fields[6:])}"


class FunctionUrlRule:
    """A function URL set to auth type NONE, judged on whether the function's policy lets everyone call it."""

    specs: ClassVar[tuple[RuleSpec, ...]] = (LAMBDA_FUNCTION_URL_PUBLIC,)

    def evaluate(self, context: RuleContext) -> Evaluation:
        change = context.change
        request = change.request_parameters
        qualifier = request.get("qualifier")
        arn = function_arn(
            context.partition,
            change.region,
            change.account,
            context.request_text("functionName"),
            qualifier if isinstance(qualifier, str) else None,
        )
        evaluation = Evaluation(resource_arn=arn)
        what = _what(arn)
        auth = request.get("authType")
        if auth != "NONE":
            evaluation.compliant.append(
                f"the URL of {what} requires IAM authentication"
                if auth == "AWS_IAM"
                else f"the change leaves the authentication of the URL of {what} as it was"
            )
            return evaluation
        own = context.settings.own
        # Known by account, Region and name, as iamwarden-tampered knows its functions: a function of the same name in
        # another Region of the security account is anyone's (review s11 F21).
        if (
            change.account == own.home_account
            and own.home_region in (None, change.region)
            and arn.split(":")[6] in own.signed_url_functions & own.functions
        ):
            evaluation.compliant.append(
                f"the URL of {what} is IAM Warden's own Slack interaction endpoint: it has auth type NONE by design "
                "and checks Slack's signature on every request itself"
            )
            return evaluation
        step = RemediationStep(
            RequireFunctionUrlIamAuth.action,
            arn,
            {"resource": arn},
            f"set the auth type of the URL of {what} back to AWS_IAM",
        )
        needs_context: tuple[str, ...] = ()
        if context.live_clients is None:
            needs_context = (
                f"whether the policy of {what} lets everyone call lambda:InvokeFunctionUrl: the policy is not in "
                "the event and was not read",
            )
            reason = (
                f"{change.actor.display} set the URL of {what} to auth type NONE: Lambda no longer checks who calls "
                "it, so anyone on the internet can run the function if its policy lets everyone invoke the URL."
            )
        else:
            public = self._public_statements(context, context.live_clients(change.account, change.region), arn)
            if not public:
                evaluation.compliant.append(
                    f"the URL of {what} has auth type NONE, but no statement of the function's policy lets everyone "
                    "call it"
                )
                return evaluation
            reason = (
                f"{change.actor.display} set the URL of {what} to auth type NONE, and the function's policy lets "
                f"everyone call it ({', '.join(public)}): anyone on the internet can run the function."
            )
        evaluation.findings.append(
            context.finding(
                LAMBDA_FUNCTION_URL_PUBLIC,
                severity=Severity.CRITICAL,
                resource_arn=arn,
                reason=reason,
                plan=[step],
                offending=[{"auth_type": "NONE"}],
                needs_context=needs_context,
            )
        )
        return evaluation

    @staticmethod
    def _public_statements(context: RuleContext, aws: AccountClients, arn: str) -> list[str]:
        """The statements of the live function policy that let everyone call ``lambda:InvokeFunctionUrl``."""
        change = context.change
        client = aws.client("lambda")
        try:
            text = client.get_policy(**_split_function(arn))["Policy"]
        except Exception as exc:
            if error_code(exc) == _NOT_FOUND:
                return []  # no policy: nobody may call the URL
            if not is_aws_error(exc):
                raise
            raise classify(exc, "GetPolicy", resource=arn) from exc
        policy = parse_policy(json.loads(text), field=f"the policy of {_what(arn)}")
        boundary = context.settings.boundary(change.account)
        return [
            statement.label
            for statement in policy.statements
            if statement.grants_action("lambda:InvokeFunctionUrl") and exposure_of(statement, boundary).public
        ]


class RequireFunctionUrlIamAuth:
    """Set a function URL's auth type back to AWS_IAM (undo: NONE again). Undoable."""

    permissions: ClassVar[Permissions] = ("lambda:GetFunctionUrlConfig", "lambda:UpdateFunctionUrlConfig")
    action: ClassVar[StepAction] = StepAction("require_function_url_iam_auth", permissions)
    undo_permissions: ClassVar[Permissions] = ("lambda:GetFunctionUrlConfig", "lambda:UpdateFunctionUrlConfig")
    undoable: ClassVar[bool] = True

    @staticmethod
    def _auth(aws: AccountClients, arn: str) -> str | None:
        try:
            return str(aws.client("lambda").get_function_url_config(**_split_function(arn))["AuthType"])
        except Exception as exc:
            if error_code(exc) == _NOT_FOUND:
                return None  # no URL (any more)
            raise

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        return {"auth_type": self._auth(aws, step.parameters["resource"])}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        arn = step.parameters["resource"]
        if before["auth_type"] != "NONE":
            return  # gone, or already AWS_IAM
        run.aws.client("lambda").update_function_url_config(**_split_function(arn), AuthType="AWS_IAM")
        done.append(f"set the auth type of the URL of {_what(arn)} to AWS_IAM")

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        arn = step.parameters["resource"]
        if before["auth_type"] != "NONE":
            return []
        current = self._auth(aws, arn)
        if current is None:
            raise UndoError(f"{_what(arn)} has no function URL any more; its auth type cannot be restored")
        if current == "NONE":
            return []
        aws.client("lambda").update_function_url_config(**_split_function(arn), AuthType="NONE")
        return [f"set the auth type of the URL of {_what(arn)} back to NONE"]


REMOVE_LAMBDA_PERMISSION = RemoveLambdaPermission()
LAMBDA_PERMISSION_RULE = LambdaPermissionRule(
    LAMBDA_PERMISSION_PUBLIC,
    LAMBDA_PERMISSION_CROSS_ACCOUNT,
    LAMBDA,
    REMOVE_LAMBDA_PERMISSION,
)

GUARDRAILS = (LAMBDA_PERMISSION_RULE, FunctionUrlRule())
ACTIONS = (REMOVE_LAMBDA_PERMISSION, RequireFunctionUrlIamAuth())
