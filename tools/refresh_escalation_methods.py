"""Regenerate the escalation catalogue (``iamwarden/domain/data/escalation_methods.json``) from upstream files.

The catalogue is data with provenance. Its sources:

* cloudsplaining's ``PRIVILEGE_ESCALATION_METHODS`` and ``PRIVILEGE_ESCALATION_PATHFINDING_PATHS``
  (``cloudsplaining/shared/constants.py``): the Rhino Security Labs methods plus DataDog's
  pathfinding.cloud paths, by name, with the actions each needs;
* DataDog's pathfinding.cloud path files (``data/paths/<service>/<id>.yaml``): each path's category
  (what kind of reach it needs) and the paths cloudsplaining does not package yet;
* NCC Group's PMapper edges (``principalmapper/graphing/*_edges.py``), transcribed below because
  they are code, not data: the edges neither of the others lists;
* IAM Warden's own additions (issue 13): creating a role and writing its permissions, and a role
  removing its own Deny or permissions boundary (pathfinding.cloud publishes the user variants).

Run it when a newer upstream file is at hand (a checkout, or the files alone)::

    python tools/refresh_escalation_methods.py \\
        --cloudsplaining ../cloudsplaining/cloudsplaining/shared/constants.py \\
        --cloudsplaining-commit <sha> --cloudsplaining-date 2026-05-29 --cloudsplaining-version 0.9.1 \\
        --pathfinding ../pathfinding.cloud/data/paths --pathfinding-commit <sha> --pathfinding-date 2025-12-17

The table of resource kinds below says, per action, which resource a grant must reach for the
method to work (``iam:role/``: a role); an upstream method naming an action this script has no
kind for gets "any resource", and a method whose reach cannot be told fails the run, so a new
upstream family is reviewed before it ships.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "layers" / "core" / "iamwarden" / "domain" / "data" / "escalation_methods.json"

#: How each reach is judged (the loader in iamwarden.domain.catalogue knows exactly these).
REACHES = (
    "self",
    "modifies-other",
    "becomes-other",
    "passes-role",
    "existing-resource",
    "lifts-restraint",
    "assumes-role",
    "writes-assumer",
)

#: Per action: the resource it must reach, as "<service>:<resource-type prefix>" ("" = any resource).
RESOURCE_KINDS: dict[str, str] = {
    "iam:passrole": "iam:role/",
    "sts:assumerole": "iam:role/",
    "iam:createrole": "iam:role/",
    "iam:attachrolepolicy": "iam:role/",
    "iam:putrolepolicy": "iam:role/",
    "iam:updateassumerolepolicy": "iam:role/",
    "iam:attachuserpolicy": "iam:user/",
    "iam:putuserpolicy": "iam:user/",
    "iam:createaccesskey": "iam:user/",
    "iam:deleteaccesskey": "iam:user/",
    "iam:createloginprofile": "iam:user/",
    "iam:updateloginprofile": "iam:user/",
    "iam:attachgrouppolicy": "iam:group/",
    "iam:putgrouppolicy": "iam:group/",
    "iam:addusertogroup": "iam:group/",
    "iam:createpolicyversion": "iam:policy/",
    "iam:setdefaultpolicyversion": "iam:policy/",
    # Removing what holds a principal back: a Deny in a policy, or its permissions boundary.
    "iam:deleteuserpermissionsboundary": "iam:user/",
    "iam:deleterolepermissionsboundary": "iam:role/",
    "iam:putuserpermissionsboundary": "iam:user/",
    "iam:putrolepermissionsboundary": "iam:role/",
    "iam:detachuserpolicy": "iam:user/",
    "iam:detachrolepolicy": "iam:role/",
    "iam:deleteuserpolicy": "iam:user/",
    "iam:deleterolepolicy": "iam:role/",
    # The existing resources whose role a method takes over.
    "lambda:updatefunctioncode": "lambda:function:",
    "glue:updatedevendpoint": "glue:devEndpoint/",
    "ssm:sendcommand": "ec2:instance/",
    "ssm:startsession": "ec2:instance/",
    "ec2-instance-connect:sendsshpublickey": "ec2:instance/",
    "ec2:modifyinstanceattribute": "ec2:instance/",
    "ec2:createlaunchtemplateversion": "ec2:launch-template/",
    "ecs:executecommand": "ecs:task/",
    "cloudformation:updatestack": "cloudformation:stack/",
    "cloudformation:executechangeset": "cloudformation:stack/",
    "codebuild:startbuild": "codebuild:project/",
    "codebuild:startbuildbatch": "codebuild:project/",
    "sagemaker:createpresignednotebookinstanceurl": "sagemaker:notebook-instance/",
    "sagemaker:updatenotebookinstance": "sagemaker:notebook-instance/",
    "apprunner:updateservice": "apprunner:service/",
    "bedrock-agentcore:startcodeinterpretersession": "bedrock-agentcore:code-interpreter",
    # pathfinding.cloud 2026: a job definition's role, an AgentCore runtime's or browser's, a deployment
    # group's instances' roles (a prefix without "/" where the ARN spelling varies: browser, browser-custom).
    "batch:submitjob": "batch:job-definition/",
    "bedrock-agentcore:invokeagentruntimecommand": "bedrock-agentcore:runtime/",
    "bedrock-agentcore:startbrowsersession": "bedrock-agentcore:browser",
    "codedeploy:createdeployment": "codedeploy:deploymentgroup:",
    # PMapper: a new AutoScaling group launches from an existing launch configuration, as its instance profile.
    "autoscaling:createautoscalinggroup": "autoscaling:autoScalingGroup:",
}

#: The action whose resource is what the method turns into power, per reach.
_WRITES = ("iam:attach", "iam:put", "iam:createpolicyversion", "iam:setdefaultpolicyversion")
_TAKES_OVER = (
    "iam:createaccesskey",
    "iam:createloginprofile",
    "iam:updateloginprofile",
    "iam:updateassumerolepolicy",
    "iam:addusertogroup",
)

#: Actions that remove or replace what holds a principal back (a Deny-holding policy, a permissions boundary).
_LIFTS = (
    "iam:deleteuserpermissionsboundary",
    "iam:deleterolepermissionsboundary",
    "iam:putuserpermissionsboundary",
    "iam:putrolepermissionsboundary",
    "iam:detachuserpolicy",
    "iam:detachrolepolicy",
    "iam:deleteuserpolicy",
    "iam:deleterolepolicy",
)

#: Names for the pathfinding.cloud paths cloudsplaining does not package (in its naming style).
PATH_NAMES = {
    "apprunner-002": "UpdateExistingAppRunnerService",
    "cloudformation-002": "UpdateExistingCloudFormationStack",
    "codebuild-002": "StartBuildOnExistingCodeBuildProject",
    "codebuild-003": "StartBuildBatchOnExistingCodeBuildProject",
    "iam-014": "AttachRolePolicyThenAssumeRole",
    "iam-017": "PutRolePolicyThenAssumeRole",
    "iam-022": "DeleteUserPermissionsBoundary",
    "iam-023": "DeleteRolePermissionsBoundaryThenAssumeRole",
    "iam-024": "PutUserPermissionsBoundary",
    "iam-025": "DetachUserPolicy",
    "iam-026": "DeleteUserPolicy",
    "ssm-001": "StartSessionOnExistingEC2Instance",
    "ssm-002": "SendCommandToExistingEC2Instance",
    # pathfinding.cloud 2026 (iam-022..026 are named with the boundary and Deny handling of domain/escalation.py)
    "ssm-003": "PassRoleToNewSSMAutomationDocument",
    "ec2-005": "ModifyExistingEC2LaunchTemplate",
    "ecs-007": "PassRoleToECSStartTaskOnRegisteredInstance",
    "ecs-008": "PassRoleToECSRunTaskOverride",
    "ecs-009": "PassRoleToECSStartTaskOverride",
    "glue-007": "PassRoleToNewGlueInteractiveSession",
    "batch-001": "PassRoleToNewBatchJobDefinition",
    "batch-002": "SubmitJobToExistingBatchJobDefinition",
    "batch-003": "PassRoleToNewBatchPipeline",
    "bedrock-003": "PassRoleToNewAgentCoreRuntime",
    "bedrock-004": "InvokeCommandOnExistingAgentCoreRuntime",
    "bedrock-005": "PassRoleToNewAgentCoreHarness",
    "bedrock-006": "PassRoleToNewAgentCoreBrowser",
    "bedrock-007": "DriveExistingAgentCoreBrowser",
    "braket-001": "PassRoleToNewBraketJob",
    "codedeploy-001": "DeployToExistingCodeDeployGroup",
    "cognitoidentity-001": "PassRoleToCognitoIdentityPool",
    "emr-001": "PassRoleToNewEMRCluster",
    "emrserverless-001": "PassRoleToNewEMRServerlessJobRun",
    "gamelift-001": "PassRoleToNewGameLiftFleet",
    "imagebuilder-001": "PassRoleToNewImageBuilderBuild",
    "kinesisanalytics-001": "PassRoleToNewFlinkApplication",
    "omics-001": "PassRoleToNewHealthOmicsRun",
}

#: Methods in cloudsplaining with no pathfinding.cloud page: their category, as pathfinding would say.
CATEGORY_WITHOUT_PAGE = {
    "SetExistingDefaultPolicyVersion": "self-escalation",
    "PassExistingRoleToNewLambdaThenTriggerWithNewDynamo": "new-passrole",
}

PMAPPER = {
    "repo": "nccgroup/PMapper",
    "path": "principalmapper/graphing/*_edges.py",
    "commit": "91d2e60102bdadf346d77b60d90ddaa4a678f037",
    "date": "2022-02-03",
    "version": "1.1.5",
}

#: PMapper edges the other sources lack: (name, file, actions, reach, what it lets an attacker do).
PMAPPER_EDGES: tuple[tuple[str, str, tuple[str, ...], str, str], ...] = (
    (
        "AssumeStrongerRole",
        "sts_edges.py",
        ("sts:assumerole",),
        "assumes-role",
        "assume an existing role whose trust policy lets it in, and act as that role",
    ),
    (
        "PassRoleToNewLambdaFunction",
        "lambda_edges.py",
        ("iam:passrole", "lambda:createfunction"),
        "passes-role",
        "create a Lambda function with an existing role and run code as that role",
    ),
    (
        "PassRoleToExistingLambdaFunction",
        "lambda_edges.py",
        ("iam:passrole", "lambda:updatefunctionconfiguration", "lambda:updatefunctioncode"),
        "passes-role",
        "give an existing Lambda function another role and new code, and run code as that role",
    ),
    (
        "SendCommandToInstance",
        "ssm_edges.py",
        ("ssm:sendcommand",),
        "existing-resource",
        "run commands on an EC2 instance with SSM and take its role's credentials",
    ),
    (
        "StartSessionOnInstance",
        "ssm_edges.py",
        ("ssm:startsession",),
        "existing-resource",
        "open an SSM shell on an EC2 instance and take its role's credentials",
    ),
    (
        "PassRoleToUpdatedCodeBuildProject",
        "codebuild_edges.py",
        ("iam:passrole", "codebuild:updateproject", "codebuild:startbuild"),
        "passes-role",
        "give an existing CodeBuild project another role and a build spec of its own, then run it",
    ),
    (
        "PassRoleToUpdatedCodeBuildProjectBatch",
        "codebuild_edges.py",
        ("iam:passrole", "codebuild:updateproject", "codebuild:startbuildbatch"),
        "passes-role",
        "give an existing CodeBuild project another role and a build spec of its own, then run a batch",
    ),
    (
        "PassRoleToUpdatedCloudFormationStack",
        "cloudformation_edges.py",
        ("iam:passrole", "cloudformation:updatestack"),
        "passes-role",
        "update a CloudFormation stack to act with another role and create resources as that role",
    ),
    (
        "PassRoleToCloudFormationChangeSet",
        "cloudformation_edges.py",
        ("iam:passrole", "cloudformation:createchangeset", "cloudformation:executechangeset"),
        "passes-role",
        "execute a CloudFormation change set that acts with another role",
    ),
    (
        "PassRoleToRunningEC2Instance",
        "ec2_edges.py",
        ("iam:passrole", "ec2:associateiaminstanceprofile"),
        "passes-role",
        "attach an instance profile with an existing role to an instance it controls",
    ),
    (
        "PassRoleToNewAutoScalingLaunchConfiguration",
        "autoscaling_edges.py",
        ("iam:passrole", "autoscaling:createlaunchconfiguration", "autoscaling:createautoscalinggroup"),
        "passes-role",
        "launch instances with an existing role through an AutoScaling launch configuration",
    ),
    (
        "CreateAutoScalingGroupWithExistingLaunchConfiguration",
        "autoscaling_edges.py",
        ("autoscaling:createautoscalinggroup",),
        "existing-resource",
        "launch instances from an existing launch configuration in a new AutoScaling group and take its role",
    ),
    # The same actions as a cloudsplaining/pathfinding.cloud method: recorded as a further source of it.
    *(
        (name, file, actions, "passes-role", "")
        for name, file, actions in (
            ("PassRoleToNewEC2Instance", "ec2_edges.py", ("iam:passrole", "ec2:runinstances")),
            ("PassRoleToNewStack", "cloudformation_edges.py", ("iam:passrole", "cloudformation:createstack")),
            (
                "PassRoleToNewCodeBuildProject",
                "codebuild_edges.py",
                ("iam:passrole", "codebuild:createproject", "codebuild:startbuild"),
            ),
            ("PassRoleToNewNotebook", "sagemaker_edges.py", ("iam:passrole", "sagemaker:createnotebookinstance")),
            ("PassRoleToNewTrainingJob", "sagemaker_edges.py", ("iam:passrole", "sagemaker:createtrainingjob")),
            (
                "PassRoleToNewSageMakerProcessingJob",
                "sagemaker_edges.py",
                ("iam:passrole", "sagemaker:createprocessingjob"),
            ),
        )
    ),
    (
        "EditLambdaFunctionCode",
        "lambda_edges.py",
        ("lambda:updatefunctioncode",),
        "existing-resource",
        "",
    ),
)

IAMWARDEN = {
    "repo": "iamwarden",
    "path": "issue 13, item 2 (self-escalation)",
    "commit": "",
    "date": "2026-12-04",
    "version": "",
}

#: IAM Warden's additions: (name, actions, same-resource actions, reach, what it lets an attacker do).
IAMWARDEN_METHODS: tuple[tuple[str, tuple[str, ...], tuple[str, ...], str, str], ...] = (
    (
        "CreateRoleThenAttachRolePolicy",
        ("iam:createrole", "iam:attachrolepolicy"),
        ("iam:createrole", "iam:attachrolepolicy"),
        "modifies-other",
        "create a role that trusts itself, attach any managed policy to it and assume it",
    ),
    (
        "CreateRoleThenPutRolePolicy",
        ("iam:createrole", "iam:putrolepolicy"),
        ("iam:createrole", "iam:putrolepolicy"),
        "modifies-other",
        "create a role that trusts itself, write it an inline policy granting anything and assume it",
    ),
    # pathfinding.cloud's iam-022, iam-024, iam-025 and iam-026 for a role removing its own restraint.
    (
        "DeleteRolePermissionsBoundaryOfItself",
        ("iam:deleterolepermissionsboundary",),
        (),
        "lifts-restraint",
        "delete its own role's permissions boundary and use everything its policies grant",
    ),
    (
        "PutRolePermissionsBoundaryOfItself",
        ("iam:putrolepermissionsboundary",),
        (),
        "lifts-restraint",
        "replace its own role's permissions boundary with a weaker one and use all its policies grant",
    ),
    (
        "DetachRolePolicyFromItself",
        ("iam:detachrolepolicy",),
        (),
        "lifts-restraint",
        "detach the managed policy holding a Deny from its own role and use what the Deny held back",
    ),
    (
        "DeleteRolePolicyOfItself",
        ("iam:deleterolepolicy",),
        (),
        "lifts-restraint",
        "delete the inline policy holding a Deny from its own role and use what the Deny held back",
    ),
)

#: A role's user and group writes, turned into power by a user who can assume the role (audit gap 12): the
#: published way to use iam-vulnerable's privesc7/8/10/11/13 *role* variants. (name, action, the lab's file,
#: what it lets an attacker do.)
ASSUMER_METHODS: tuple[tuple[str, str, str, str], ...] = (
    (
        "PutAssumerUserPolicy",
        "iam:putuserpolicy",
        "privesc10-PutUserPolicy.tf",
        "write an inline policy granting anything on a user who can assume it, for that user to act with",
    ),
    (
        "AttachAssumerUserPolicy",
        "iam:attachuserpolicy",
        "privesc7-AttachUserPolicy.tf",
        "attach any managed policy (AdministratorAccess too) to a user who can assume it, for that user to act with",
    ),
    (
        "AddAssumerToGroup",
        "iam:addusertogroup",
        "privesc13-AddUserToGroup.tf",
        "add a user who can assume it to any group it reaches, an administrators group too",
    ),
    (
        "PutAssumerGroupPolicy",
        "iam:putgrouppolicy",
        "privesc11-PutGroupPolicy.tf",
        "write an inline policy granting anything on a group whose member can assume it, for that member to act with",
    ),
    (
        "AttachAssumerGroupPolicy",
        "iam:attachgrouppolicy",
        "privesc8-AttachGroupPolicy.tf",
        "attach any managed policy to a group whose member can assume it, for that member to act with",
    ),
)

#: What the classic methods let an attacker do, in words (the others get a sentence from their reach).
DESCRIPTIONS = {
    "CreateNewPolicyVersion": "write a new default version of a managed policy it is attached to",
    "SetExistingDefaultPolicyVersion": "make an older, broader version of a managed policy the default",
    "CreateEC2WithExistingIP": "start an EC2 instance with an existing role and take that role's credentials",
    "CreateAccessKey": "create access keys for other users and act as them",
    "CreateLoginProfile": "give other users a console password and sign in as them",
    "UpdateLoginProfile": "change other users' console passwords and sign in as them",
    "AttachUserPolicy": "attach any managed policy, AdministratorAccess too, to its own user",
    "AttachGroupPolicy": "attach any managed policy to a group it is in",
    "AttachRolePolicy": "attach any managed policy to its own role",
    "PutUserPolicy": "write itself an inline policy that grants anything",
    "PutGroupPolicy": "write an inline policy granting anything to a group it is in",
    "PutRolePolicy": "write its own role an inline policy that grants anything",
    "AddUserToGroup": "add itself to any group, an administrators group too",
    "UpdateRolePolicyToAssumeIt": "rewrite a role's trust policy to let itself in, then assume the role",
    "UpdateExistingGlueDevEndpoint": "put its own SSH key on a Glue development endpoint and use the endpoint's role",
    "EditExistingLambdaFunctionWithRole": "replace the code of an existing Lambda function and run it as its role",
    "DeleteUserPermissionsBoundary": "delete its own permissions boundary and use everything its policies grant",
    "PutUserPermissionsBoundary": "replace its own permissions boundary with a weaker one and use all it is granted",
    "DetachUserPolicy": "detach the managed policy holding a Deny from itself and use what the Deny held back",
    "DeleteUserPolicy": "delete the inline policy holding a Deny from itself and use what the Deny held back",
    "DeleteRolePermissionsBoundaryThenAssumeRole": "delete another role's permissions boundary, then assume the role",
    "PassRoleToCognitoIdentityPool": (
        "bind an existing role to a Cognito identity pool's unauthenticated identities and take its credentials"
    ),
    "PassRoleToNewAgentCoreRuntime": "create a Bedrock AgentCore runtime with an existing role and run commands as it",
    "PassRoleToNewAgentCoreHarness": "create a Bedrock AgentCore harness with an existing role and run commands as it",
    "PassRoleToNewAgentCoreBrowser": "create a Bedrock AgentCore browser with an existing role, read its credentials",
    "PassRoleToNewSSMAutomationDocument": "create an SSM Automation document and run it as an existing role",
    "PassRoleToNewGlueInteractiveSession": "start a Glue interactive session with an existing role and run code as it",
    "DeployToExistingCodeDeployGroup": (
        "deploy code of its own to the EC2 instances of a CodeDeploy group and run it as their role"
    ),
}

_TEMPLATES = {
    "self": "change its own permissions",
    "modifies-other": "grant another {noun} any permission, then act as it",
    "becomes-other": "take over another {noun}",
    "passes-role": "give an existing role to {noun} it creates or changes, and run code as that role",
    "existing-resource": "run code of its own as the role of an existing {noun}",
    "lifts-restraint": "remove what holds its own {noun} back (a Deny or its permissions boundary)",
    "assumes-role": "assume an existing {noun} whose trust policy lets it in, and act as that role",
    "writes-assumer": "write the permissions of a user who can assume it (or of its group), for that user to act with",
}

#: What the resource a method reaches is called, by resource kind or by service.
NOUNS = {
    "iam:role/": "role",
    "iam:user/": "user",
    "iam:group/": "group",
    "iam:policy/": "principal through a managed policy",
    "lambda:function:": "Lambda function",
    "ec2:instance/": "EC2 instance",
    "glue:devEndpoint/": "Glue development endpoint",
    "ec2:launch-template/": "EC2 launch template",
    "ecs:task/": "ECS task",
    "cloudformation:stack/": "CloudFormation stack",
    "codebuild:project/": "CodeBuild project",
    "sagemaker:notebook-instance/": "SageMaker notebook",
    "apprunner:service/": "App Runner service",
    "bedrock-agentcore:code-interpreter": "Bedrock code interpreter",
    "lambda": "Lambda function",
    "glue": "Glue job",
    "ecs": "ECS task",
    "ec2": "EC2 instance",
    "sagemaker": "SageMaker notebook or job",
    "codebuild": "CodeBuild project",
    "cloudformation": "CloudFormation stack",
    "apprunner": "App Runner service",
    "bedrock-agentcore": "Bedrock code interpreter",
    "datapipeline": "Data Pipeline",
    "autoscaling": "AutoScaling group",
    "batch:job-definition/": "Batch job definition",
    "bedrock-agentcore:runtime/": "Bedrock AgentCore runtime",
    "bedrock-agentcore:browser": "Bedrock AgentCore browser",
    "codedeploy:deploymentgroup:": "CodeDeploy deployment group",
    "autoscaling:autoScalingGroup:": "AutoScaling group",
    "batch": "Batch job",
    "braket": "Braket job",
    "cognito-identity": "Cognito identity pool",
    "elasticmapreduce": "EMR cluster",
    "emr-serverless": "EMR Serverless job run",
    "gamelift": "GameLift fleet",
    "imagebuilder": "Image Builder build",
    "kinesisanalytics": "Managed Apache Flink application",
    "omics": "HealthOmics workflow run",
    "ssm": "SSM Automation document",
}


def _noun(reach: str, actions: list[str], target: str | None) -> str:
    if reach == "passes-role":
        service = next(a for a in actions if a != "iam:passrole").split(":", 1)[0]
        return NOUNS.get(service, service)
    kind = RESOURCE_KINDS.get(target or "", "")
    if reach == "modifies-other":
        kind = next((RESOURCE_KINDS[a] for a in actions if a in _TAKES_OVER or a == "sts:assumerole"), kind)
    return NOUNS.get(kind, "resource")


#: How AWS spells the actions no pathfinding.cloud file names (the catalogue shows actions as AWS does).
SPELLINGS = (
    "iam:PassRole",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
    "iam:AddUserToGroup",
    "iam:CreatePolicyVersion",
    "iam:AttachUserPolicy",
    "iam:AttachGroupPolicy",
    "iam:AttachRolePolicy",
    "iam:PutUserPolicy",
    "iam:PutGroupPolicy",
    "iam:PutRolePolicy",
    "iam:UpdateAssumeRolePolicy",
    "sts:AssumeRole",
    "ec2:RunInstances",
    "lambda:CreateFunction",
    "lambda:InvokeFunction",
    "lambda:CreateEventSourceMapping",
    "lambda:UpdateFunctionCode",
    "glue:CreateDevEndpoint",
    "glue:UpdateDevEndpoint",
    "cloudformation:CreateStack",
    "cloudformation:UpdateStack",
    "datapipeline:CreatePipeline",
    "ssm:SendCommand",
    "ssm:StartSession",
    "codebuild:StartBuild",
    "codebuild:StartBuildBatch",
    "codebuild:CreateProject",
    "sagemaker:CreateNotebookInstance",
    "sagemaker:CreateTrainingJob",
    "sagemaker:CreateProcessingJob",
    "sagemaker:CreatePresignedNotebookInstanceUrl",
    "dynamodb:CreateTable",
    "dynamodb:PutItem",
    "ecs:ExecuteCommand",
    "ecs:DescribeTasks",
    "lambda:UpdateFunctionConfiguration",
    "codebuild:UpdateProject",
    "ec2:AssociateIamInstanceProfile",
    "autoscaling:CreateLaunchConfiguration",
    "autoscaling:CreateAutoScalingGroup",
    "iam:CreateRole",
    "iam:SetDefaultPolicyVersion",
    "cloudformation:CreateChangeSet",
    "cloudformation:ExecuteChangeSet",
    "iam:DeleteUserPermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary",
    "iam:PutUserPermissionsBoundary",
    "iam:PutRolePermissionsBoundary",
    "iam:DetachUserPolicy",
    "iam:DetachRolePolicy",
    "iam:DeleteUserPolicy",
    "iam:DeleteRolePolicy",
)


def _spelled(actions: list[str], spellings: dict[str, str]) -> list[str]:
    return [spellings.get(action, action) for action in actions]


def _literal_dict(tree: ast.Module, name: str) -> dict[str, Any]:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            value = ast.literal_eval(node.value)
            if isinstance(value, dict):
                return value
    raise SystemExit(f"{name} not found as a literal dict")


#: cloudsplaining's section comments in PRIVILEGE_ESCALATION_METHODS, as pathfinding.cloud categories.
SECTION_CATEGORIES = {
    "iam permissions on other users": "principal-access",
    "permissions on policies": "self-escalation",
    "updating an assumerolepolicy": "principal-access",
    "iam:passrole": "new-passrole",
    "privilege escalation using aws services": "existing-passrole",
    "pathfinding.cloud: existing-passrole": "existing-passrole",
    "pathfinding.cloud: new-passrole": "new-passrole",
    "pathfinding.cloud: principal-access": "principal-access",
}


def _sections(source: str) -> dict[str, str]:
    """Each method's category from the section comment above it in cloudsplaining's constants.py."""
    category = ""
    found: dict[str, str] = {}
    for line in source.splitlines():
        text = line.strip()
        if text.startswith("#"):
            heading = text.lstrip("# ").lower()
            heading = heading.split(". ", 1)[-1] if heading[:1].isdigit() else heading
            category = next((cat for key, cat in SECTION_CATEGORIES.items() if heading.startswith(key)), category)
        elif text.startswith('"') and '": [' in text:
            found.setdefault(text.split('"', 2)[1], category)
        if text.startswith("PRIVILEGE_ESCALATION_GLOSSARY_URL"):
            break
    return found


def _pathfinding(paths_dir: Path | None) -> dict[str, dict[str, Any]]:
    """pathfinding.cloud paths by id (``ssm-002``): category, required actions, name."""
    found: dict[str, dict[str, Any]] = {}
    if paths_dir is None:
        return found
    for file in sorted(paths_dir.rglob("*.yaml")):
        data = yaml.safe_load(file.read_text())
        required = [item["permission"].lower() for item in data["permissions"]["required"]]
        SPELLING.update({item["permission"].lower(): item["permission"] for item in data["permissions"]["required"]})
        found[data["id"]] = {
            "category": data["category"],
            "actions": required,
            "name": data["name"],
            "file": str(file.relative_to(paths_dir.parent.parent)),
        }
    return found


def _reach(category: str, actions: list[str]) -> str:
    if "iam:passrole" in actions:
        return "passes-role"
    if category == "self-escalation":
        return "lifts-restraint" if all(a in _LIFTS for a in actions) else "self"
    if category == "principal-access":
        modifies = any(a.startswith(_WRITES) or a in _LIFTS for a in actions)
        return "modifies-other" if modifies else "becomes-other"
    if category in ("existing-passrole", "new-passrole"):
        return "existing-resource"
    raise SystemExit(f"cannot tell the reach of a method in category {category!r} with {actions}")


def _target(reach: str, actions: list[str]) -> str | None:
    """The action whose resource is what the method reaches (None: it changes the holder itself)."""
    if reach in ("self", "writes-assumer"):
        return next(a for a in actions if a.startswith(_WRITES) or a == "iam:addusertogroup")
    if reach == "passes-role":
        return "iam:passrole"
    if reach == "modifies-other":
        return next(a for a in actions if a.startswith(_WRITES) or a in _LIFTS)
    if reach == "lifts-restraint":
        return next(a for a in actions if a in _LIFTS)
    if reach == "becomes-other":
        return next(a for a in actions if a in _TAKES_OVER or a == "sts:assumerole")
    if reach == "assumes-role":
        return "sts:assumerole"
    for action in actions:
        if RESOURCE_KINDS.get(action, "") and not action.startswith("iam:"):
            return action
    raise SystemExit(f"no resource kind for the existing resource of {actions}: add one to RESOURCE_KINDS")


def _same_resource(reach: str, actions: list[str]) -> list[str]:
    """Actions that must reach one and the same principal (write its permissions, then become it)."""
    if reach != "modifies-other":
        return []
    principal_actions = [a for a in actions if RESOURCE_KINDS.get(a, "").startswith("iam:")]
    kinds = {RESOURCE_KINDS[a] for a in principal_actions}
    return principal_actions if len(kinds) == 1 and len(principal_actions) > 1 else []


#: lower-case action -> AWS's spelling, filled from the upstream files and SPELLINGS.
SPELLING: dict[str, str] = {action.lower(): action for action in SPELLINGS}


def _spell(action: str | None) -> str | None:
    return None if action is None else SPELLING.get(action, action)


def _method(
    name: str,
    actions: list[str],
    reach: str,
    sources: list[dict[str, str]],
    *,
    description: str | None = None,
    link: str | None = None,
) -> dict[str, Any]:
    target = _target(reach, actions)
    noun = _noun(reach, actions, target)
    if reach == "passes-role":
        noun = ("an " if noun[:1] in "AEIOU" else "a ") + noun
    generic = _TEMPLATES[reach].format(noun=noun)
    return {
        "name": name,
        "description": description or DESCRIPTIONS.get(name) or generic,
        "reach": reach,
        "actions": {SPELLING.get(action, action): RESOURCE_KINDS.get(action, "") for action in actions},
        "target": _spell(_target(reach, actions)),
        "same_resource": [SPELLING.get(a, a) for a in _same_resource(reach, actions)],
        "sources": sources,
        "link": link,
    }


def build(args: argparse.Namespace) -> dict[str, Any]:
    source = Path(args.cloudsplaining).read_text()
    tree = ast.parse(source)
    sections = _sections(source)
    methods_by_name = _literal_dict(tree, "PRIVILEGE_ESCALATION_METHODS")
    links = _literal_dict(tree, "PRIVILEGE_ESCALATION_PATHFINDING_PATHS")
    paths = _pathfinding(Path(args.pathfinding) if args.pathfinding else None)
    methods: list[dict[str, Any]] = []
    covered: set[str] = set()
    for name, raw_actions in methods_by_name.items():
        actions = [a.lower() for a in raw_actions]
        link = links.get(name)
        path_id = link.rsplit("/", 1)[-1] if link else None
        if path_id:
            covered.add(path_id)
        category = paths[path_id]["category"] if path_id in paths else sections.get(name, "")
        category = CATEGORY_WITHOUT_PAGE.get(name, category)
        sources = [{"source": "cloudsplaining", "ref": f"PRIVILEGE_ESCALATION_METHODS[{name!r}]"}]
        if path_id:
            sources.append({"source": "pathfinding.cloud", "ref": path_id})
        methods.append(_method(name, actions, _reach(category, actions), sources, link=link))
    for path_id, path in sorted(paths.items()):
        if path_id in covered or path_id == "sts-001":  # sts-001: the trust policy decides, not a method
            continue
        name = PATH_NAMES.get(path_id) or "".join(part.capitalize() for part in path_id.split("-")) + "Path"
        cited = [{"source": "pathfinding.cloud", "ref": path_id}]
        link = f"https://pathfinding.cloud/paths/{path_id}"
        reach = _reach(path["category"], path["actions"])
        methods.append(_method(name, path["actions"], reach, cited, link=link))
    for name, file, edge, reach, description in PMAPPER_EDGES:
        cited = [{"source": "pmapper", "ref": file}]
        methods.append(_method(name, list(edge), reach, cited, description=description))
    for name, needed, same, reach, description in IAMWARDEN_METHODS:
        provenance = [{"source": "iamwarden", "ref": "issue 13"}]
        method = _method(name, list(needed), reach, provenance, description=description)
        method["same_resource"] = [SPELLING.get(a, a) for a in same]
        methods.append(method)
    for name, action, lab_file, description in ASSUMER_METHODS:
        cited = [{"source": "iamwarden", "ref": f"issue 13 (the role of iam-vulnerable's {lab_file})"}]
        methods.append(_method(name, [action], "writes-assumer", cited, description=description))
    _merge_duplicates(methods)
    return {
        "format": 1,
        "sources": {
            "cloudsplaining": {
                "repo": "salesforce/cloudsplaining",
                "path": "cloudsplaining/shared/constants.py",
                "commit": args.cloudsplaining_commit,
                "date": args.cloudsplaining_date,
                "version": args.cloudsplaining_version,
            },
            "pathfinding.cloud": {
                "repo": "DataDog/pathfinding.cloud",
                "path": "data/paths/[aws/]<service>/<id>.yaml" if paths else "as linked by cloudsplaining",
                "commit": args.pathfinding_commit if paths else "",
                "date": args.pathfinding_date if paths else args.cloudsplaining_date,
                "version": args.pathfinding_version if paths else "",
            },
            "pmapper": PMAPPER,
            "iamwarden": IAMWARDEN,
        },
        "methods": methods,
    }


def _merge_duplicates(methods: list[dict[str, Any]]) -> None:
    """A method two sources publish with the same actions, reaching power the same way, is one method citing both
    (a role's iam:PutUserPolicy on a user who assumes it is not a user's iam:PutUserPolicy on itself)."""
    seen: dict[tuple[str, frozenset[str]], dict[str, Any]] = {}
    for method in list(methods):
        key = (method["reach"], frozenset(method["actions"]))
        if key in seen:
            seen[key]["sources"].extend(s for s in method["sources"] if s not in seen[key]["sources"])
            methods.remove(method)
        else:
            seen[key] = method


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cloudsplaining", required=True, help="cloudsplaining/shared/constants.py")
    parser.add_argument("--cloudsplaining-commit", required=True)
    parser.add_argument("--cloudsplaining-date", required=True)
    parser.add_argument("--cloudsplaining-version", default="")
    parser.add_argument("--pathfinding", help="pathfinding.cloud's data/paths directory")
    parser.add_argument("--pathfinding-commit", default="")
    parser.add_argument("--pathfinding-date", default="")
    parser.add_argument("--pathfinding-version", default="", help="what was read, when no one commit holds it all")
    parser.add_argument("--output", default=str(OUTPUT))
    args = parser.parse_args(argv)
    catalogue = build(args)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(catalogue, indent=1) + "\n")
    print(f"{len(catalogue['methods'])} methods written to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
