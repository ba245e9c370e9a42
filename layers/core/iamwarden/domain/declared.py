"""What IAM Warden's own stacks declare, by name: the only changes CloudFormation may make to its resources.

CloudFormation (``invokedBy`` ``cloudformation.amazonaws.com``) is no identity: *any* stack can declare an
``AWS::IAM::RolePolicy`` on the enforcer's role, an ``AWS::Lambda::Permission`` on one of its functions or an
``AWS::SSM::Parameter`` under its settings prefix. So ``iamwarden-tampered`` exempts a CloudFormation change only
when it names what IAM Warden's templates declare: the inline and managed policies of each own role (by role
kind, ``domain.own``), the settings parameters (relative to the prefix), the Lambda permissions (by logical id:
CloudFormation names a permission's statement ``<stack>-<LogicalId>-<suffix>``) and the functions with an
event invoke configuration. ``{region}`` in a name stands for the region of the stack (``${AWS::Region}``),
``{role}`` for the name of the role it belongs to (the member roles' names are parameters).

Generated from template.yaml and member/template.yaml by tools/generate.py (``make generate``; checked by a test).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# BEGIN GENERATED: declared-own (tools/generate.py; do not edit)
#: Inline policy names of each own role, by kind.
INLINE_POLICIES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "enforcer": frozenset(
            {
                "enforcer-alerts",
                "enforcer-root-credentials",
                "enforcer-runtime",
                "only-its-own-function",
            }
        ),
        "event-forwarder": frozenset(
            {
                "forward-to-central-bus",
            }
        ),
        "exception-watch": frozenset(
            {
                "exception-watch",
                "only-its-own-function",
            }
        ),
        "heartbeat": frozenset(
            {
                "heartbeat",
                "only-its-own-function",
            }
        ),
        "member-forwarder": frozenset(
            {
                "forward-to-central-bus",
            }
        ),
        "pruner": frozenset(
            {
                "only-its-own-function",
                "pruner-alerts",
                "pruner-member-accounts",
                "pruner-runtime",
            }
        ),
        "pruner-member": frozenset(
            {
                "pruner-iam",
            }
        ),
        "remediator": frozenset(
            {
                "enforcer-alert-context",
                "enforcer-judging-context",
            }
        ),
        "slack-interactions": frozenset(
            {
                "only-its-own-function",
                "slack-interactions",
            }
        ),
        "snapshot-reader": frozenset(
            {
                "snapshots",
            }
        ),
    }
)
#: Managed policy names attached to each own role, by kind.
MANAGED_POLICIES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "enforcer": frozenset(
            {
                "iamwarden-enforcer-remediations-1-{region}",
                "iamwarden-enforcer-remediations-2-{region}",
                "iamwarden-enforcer-remediations-3-{region}",
            }
        ),
        "remediator": frozenset(
            {
                "{role}-remediations-1",
                "{role}-remediations-2",
                "{role}-remediations-3",
            }
        ),
    }
)
#: The settings parameters the stack creates, relative to the prefix.
SETTINGS: frozenset[str] = frozenset(
    {
        "cognito_identity_pools",
        "enforcement",
        "github_owners",
        "prune/always_keep",
        "prune/enabled",
        "prune/max_roles_per_account",
        "prune/max_roles_per_run",
        "prune/min_role_age_days",
        "prune/mode",
        "prune/notice_days",
        "prune/unused_days",
        "prune/watch_days",
        "root_credentials_remediation",
        "rules/access-key-created/mode",
        "rules/ami-shared/mode",
        "rules/backup-vault-policy-cross-account/mode",
        "rules/backup-vault-policy-public/mode",
        "rules/cloudtrail-logging-impaired/mode",
        "rules/config-recording-stopped/mode",
        "rules/dynamodb-resource-policy-cross-account/mode",
        "rules/dynamodb-resource-policy-public/mode",
        "rules/ebs-snapshot-shared/mode",
        "rules/ecr-repository-policy-cross-account/mode",
        "rules/ecr-repository-policy-public/mode",
        "rules/efs-file-system-policy-cross-account/mode",
        "rules/efs-file-system-policy-public/mode",
        "rules/event-bus-policy-cross-account/mode",
        "rules/event-bus-policy-public/mode",
        "rules/glacier-vault-policy-cross-account/mode",
        "rules/glacier-vault-policy-public/mode",
        "rules/group-membership-escalation/mode",
        "rules/guardduty-disabled/mode",
        "rules/iam-user-created/mode",
        "rules/iam-user-created/remediation",
        "rules/iamwarden-tampered/mode",
        "rules/iamwarden-tampered/settings_guard",
        "rules/identity-provider-unknown/mode",
        "rules/inline-policy-admin/mode",
        "rules/kms-grant-cross-account/mode",
        "rules/kms-key-policy-cross-account/mode",
        "rules/kms-key-policy-public/mode",
        "rules/lambda-function-url-public/mode",
        "rules/lambda-permission-cross-account/mode",
        "rules/lambda-permission-public/mode",
        "rules/login-profile-created/mode",
        "rules/logs-destination-policy-cross-account/mode",
        "rules/logs-destination-policy-public/mode",
        "rules/managed-policy-attached/mode",
        "rules/opensearch-access-policy-cross-account/mode",
        "rules/opensearch-access-policy-public/mode",
        "rules/organization-left/mode",
        "rules/permission-set-admin/mode",
        "rules/permissions-boundary-weakened/mode",
        "rules/policy-version-admin/delete_version",
        "rules/policy-version-admin/mode",
        "rules/privilege-escalation/delete_version",
        "rules/privilege-escalation/mode",
        "rules/rds-snapshot-shared/mode",
        "rules/remediation-reversed/mode",
        "rules/roles-anywhere-trust-anchor/mode",
        "rules/root-access-key-created/mode",
        "rules/s3-access-point-policy-cross-account/mode",
        "rules/s3-access-point-policy-public/mode",
        "rules/s3-acl-cross-account/mode",
        "rules/s3-acl-public/mode",
        "rules/s3-bucket-policy-cross-account/mode",
        "rules/s3-bucket-policy-public/mode",
        "rules/s3-multi-region-access-point-policy-cross-account/mode",
        "rules/s3-multi-region-access-point-policy-public/mode",
        "rules/s3-object-lambda-access-point-policy-cross-account/mode",
        "rules/s3-object-lambda-access-point-policy-public/mode",
        "rules/s3-public-access-block-disabled/mode",
        "rules/secret-policy-cross-account/mode",
        "rules/secret-policy-public/mode",
        "rules/securityhub-disabled/mode",
        "rules/sns-topic-policy-cross-account/mode",
        "rules/sns-topic-policy-public/mode",
        "rules/sqs-queue-policy-cross-account/mode",
        "rules/sqs-queue-policy-public/mode",
        "rules/trust-policy-untrusted/mode",
    }
)
#: Logical ids of the Lambda permissions the stack declares.
PERMISSIONS: frozenset[str] = frozenset(
    {
        "EnforcerFunctionAclChangedPermission",
        "EnforcerFunctionAmiSharedPermission",
        "EnforcerFunctionBackupVaultPolicyPublicPermission",
        "EnforcerFunctionBucketPolicyChangedPermission",
        "EnforcerFunctionCloudTrailLoggingImpairedPermission",
        "EnforcerFunctionConfigRecordingStoppedPermission",
        "EnforcerFunctionCredentialsCreatedPermission",
        "EnforcerFunctionCustomerPolicyAttachedPermission",
        "EnforcerFunctionDynamodbResourcePolicyPublicPermission",
        "EnforcerFunctionEbsSnapshotSharedPermission",
        "EnforcerFunctionEcrRepositoryPolicyPublicPermission",
        "EnforcerFunctionEfsFileSystemPolicyPublicPermission",
        "EnforcerFunctionEventBusPolicyPublicPermission",
        "EnforcerFunctionGlacierVaultPolicyPublicPermission",
        "EnforcerFunctionGroupMembershipEscalationPermission",
        "EnforcerFunctionGuarddutyDisabledPermission",
        "EnforcerFunctionIamUserCreatedPermission",
        "EnforcerFunctionIdentityProviderUnknownPermission",
        "EnforcerFunctionInlinePolicyPutPermission",
        "EnforcerFunctionKmsGrantCrossAccountPermission",
        "EnforcerFunctionKmsKeyPolicyPublicPermission",
        "EnforcerFunctionLambdaFunctionUrlPublicPermission",
        "EnforcerFunctionLambdaPermissionPublicPermission",
        "EnforcerFunctionLogsDestinationPolicyPublicPermission",
        "EnforcerFunctionManagedPolicyAttachedPermission",
        "EnforcerFunctionOpensearchAccessPolicyPublicPermission",
        "EnforcerFunctionOrganizationLeftPermission",
        "EnforcerFunctionPermissionSetAdminPermission",
        "EnforcerFunctionPermissionsBoundaryWeakenedPermission",
        "EnforcerFunctionPolicyVersionChangedPermission",
        "EnforcerFunctionPublicAccessBlockChangedPermission",
        "EnforcerFunctionRdsSnapshotSharedPermission",
        "EnforcerFunctionRemediationReversedRolesanywherePermission",
        "EnforcerFunctionRolesAnywhereTrustAnchorPermission",
        "EnforcerFunctionS3AccessPointPolicyPublicPermission",
        "EnforcerFunctionS3MultiRegionAccessPointPolicyPublicPermission",
        "EnforcerFunctionS3ObjectLambdaAccessPointPolicyPublicPermission",
        "EnforcerFunctionSecretPolicyPublicPermission",
        "EnforcerFunctionSecurityhubDisabledPermission",
        "EnforcerFunctionSnsTopicPolicyPublicPermission",
        "EnforcerFunctionSqsQueuePolicyPublicPermission",
        "EnforcerFunctionTamperedMemberRulesPermission",
        "EnforcerFunctionTamperedRolesPermission",
        "EnforcerFunctionTamperedStackPermission",
        "EnforcerFunctionTrustPolicyChangedPermission",
        "ExceptionWatchFunctionHourlyPermission",
        "HeartbeatFunctionEvery5MinutesPermission",
        "PrunePlannerFunctionPruneSchedulePermission",
        "PruneWatchFunctionAccessDeniedPermission",
        "PruneWorkerFunctionRolesPermission",
    }
)
#: Functions whose event invoke config the stack declares.
INVOKE_CONFIGS: frozenset[str] = frozenset(
    {
        "iamwarden-enforcer",
        "iamwarden-prune-planner",
        "iamwarden-prune-watch",
    }
)
#: Every EventBridge rule of the security account's stack by exact name (bus/name; bare on the default bus).
OWN_RULES: frozenset[str] = frozenset(
    {
        "iamwarden-central/iamwarden-acl-changed",
        "iamwarden-central/iamwarden-ami-shared",
        "iamwarden-central/iamwarden-backup-vault-policy-public",
        "iamwarden-central/iamwarden-bucket-policy-changed",
        "iamwarden-central/iamwarden-cloud-trail-logging-impaired",
        "iamwarden-central/iamwarden-config-recording-stopped",
        "iamwarden-central/iamwarden-credentials-created",
        "iamwarden-central/iamwarden-customer-policy-attached",
        "iamwarden-central/iamwarden-dynamodb-resource-policy-public",
        "iamwarden-central/iamwarden-ebs-snapshot-shared",
        "iamwarden-central/iamwarden-ecr-repository-policy-public",
        "iamwarden-central/iamwarden-efs-file-system-policy-public",
        "iamwarden-central/iamwarden-event-bus-policy-public",
        "iamwarden-central/iamwarden-glacier-vault-policy-public",
        "iamwarden-central/iamwarden-group-membership-escalation",
        "iamwarden-central/iamwarden-guardduty-disabled",
        "iamwarden-central/iamwarden-iam-user-created",
        "iamwarden-central/iamwarden-identity-provider-unknown",
        "iamwarden-central/iamwarden-inline-policy-put",
        "iamwarden-central/iamwarden-kms-grant-cross-account",
        "iamwarden-central/iamwarden-kms-key-policy-public",
        "iamwarden-central/iamwarden-lambda-function-url-public",
        "iamwarden-central/iamwarden-lambda-permission-public",
        "iamwarden-central/iamwarden-logs-destination-policy-public",
        "iamwarden-central/iamwarden-managed-policy-attached",
        "iamwarden-central/iamwarden-opensearch-access-policy-public",
        "iamwarden-central/iamwarden-organization-left",
        "iamwarden-central/iamwarden-permission-set-admin",
        "iamwarden-central/iamwarden-permissions-boundary-weakened",
        "iamwarden-central/iamwarden-policy-version-changed",
        "iamwarden-central/iamwarden-public-access-block-changed",
        "iamwarden-central/iamwarden-rds-snapshot-shared",
        "iamwarden-central/iamwarden-remediation-reversed-rolesanywhere",
        "iamwarden-central/iamwarden-roles-anywhere-trust-anchor",
        "iamwarden-central/iamwarden-s3-access-point-policy-public",
        "iamwarden-central/iamwarden-s3-multi-region-access-point-policy-public",
        "iamwarden-central/iamwarden-s3-object-lambda-access-point-policy-public",
        "iamwarden-central/iamwarden-secret-policy-public",
        "iamwarden-central/iamwarden-securityhub-disabled",
        "iamwarden-central/iamwarden-sns-topic-policy-public",
        "iamwarden-central/iamwarden-sqs-queue-policy-public",
        "iamwarden-central/iamwarden-tampered-member-rules",
        "iamwarden-central/iamwarden-tampered-roles",
        "iamwarden-central/iamwarden-trust-policy-changed",
        "iamwarden-exception-watch",
        "iamwarden-forward-own-events",
        "iamwarden-heartbeat",
        "iamwarden-prune-schedule",
        "iamwarden-prune-watch",
        "iamwarden-tampered-stack",
    }
)
#: Each rule of the security account's stack as its template declares it (``domain.declared_content``):
#: JSON of its EventPattern or schedule, its state and its one target's ARN, the event passed on unchanged.
OWN_RULE_CONTENT: Mapping[str, str] = MappingProxyType(
    {
        "iamwarden-central/iamwarden-acl-changed": '{"pattern": {"detail": {"errorCode": [{"exists": false}], "eventName": ["PutBucketAcl", "PutObjectAcl"], "eventSource": ["s3.amazonaws.com"], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.s3"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-central/iamwarden-ami-shared": '{"pattern": {"detail": {"errorCode": [{"exists": false}], "eventName": ["ModifyImageAttribute"], "eventSource": ["ec2.amazonaws.com"], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.ec2"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-central/iamwarden-backup-vault-policy-public": '{"pattern": {"detail": {"errorCode": [{"exists": false}], "eventName": ["PutBackupVaultAccessPolicy"], "eventSource": ["backup.amazonaws.com"], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.backup"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-central/iamwarden-bucket-policy-changed": '{"pattern": {"detail": {"errorCode": [{"exists": false}], "eventName": ["PutBucketPolicy"], "eventSource": ["s3.amazonaws.com"], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.s3"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-central/iamwarden-cloud-trail-logging-impaired": '{"pattern": {"detail": {"errorCode": [{"exists": false}], "eventName": ["DeleteTrail", "PutEventSelectors", "PutInsightSelectors", "StopLogging", "UpdateTrail"], "eventSource": ["cloudtrail.amazonaws.com"], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.cloudtrail"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-central/iamwarden-config-recording-stopped": '{"pattern": {"detail": {"errorCode": [{"exists": false}], "eventName": ["DeleteConfigurationRecorder", "DeleteDeliveryChannel", "PutConfigurationRecorder", "StopConfigurationRecorder"], "eventSource": ["config.amazonaws.com"], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.config"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-central/iamwarden-credentials-created": '{"pattern": {"detail": {"errorCode": [{"exists": false}], "eventName": ["CreateAccessKey", "CreateLoginProfile", "DeleteUserPolicy", "UpdateAccessKey", "UpdateLoginProfile"], "eventSource": ["iam.amazonaws.com"], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.iam"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-central/iamwarden-customer-policy-attached": '{"pattern": {"detail": {"errorCode": [{"exists": false}], "eventName": ["AttachGroupPolicy", "AttachRolePolicy", "AttachUserPolicy"], "eventSource": ["iam.amazonaws.com"], "requestParameters": {"policyArn": [{"anything-but": {"wildcard": "arn:*:iam::aws:policy/*"}}]}, "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.iam"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-central/iamwarden-dynamodb-resource-policy-public": '{"pattern": {"detail": {"errorCode": [{"exists": false}], "eventName": ["PutResourcePolicy"], "eventSource": ["dynamodb.amazonaws.com"], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.dynamodb"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-central/iamwarden-ebs-snapshot-shared": '{"pattern": {"detail": {"errorCode": [{"exists": false}], "eventName": ["ModifySnapshotAttribute"], "eventSource": ["ec2.amazonaws.com"], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.ec2"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-central/iamwarden-ecr-repository-policy-public": '{"pattern": {"detail": {"errorCode": [{"exists": false}], "eventName": ["SetRepositoryPolicy"], "eventSource": ["ecr.amazonaws.com"], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.ecr"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-central/iamwarden-efs-file-system-policy-public": '{"pattern": {"detail": {"errorCode": [{"exists": false}], "eventName": ["PutFileSystemPolicy"], "eventSource": ["elasticfilesystem.amazonaws.com"], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.elasticfilesystem"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-central/iamwarden-event-bus-policy-public": '{"pattern": {"detail": {"errorCode": [{"exists": false}], "eventName": ["PutPermission"], "eventSource": ["events.amazonaws.com"], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.events"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-central/iamwarden-glacier-vault-policy-public": '{"pattern": {"detail": {"errorCode": [{"exists": false}], "eventName": ["InitiateVaultLock", "SetVaultAccessPolicy"], "eventSource": ["glacier.amazonaws.com"], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.glacier"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-central/iamwarden-group-membership-escalation": '{"pattern": {"detail": {"errorCode": [{"exists": false}], "eventName": ["AddUserToGroup"], "eventSource": ["iam.amazonaws.com"], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.iam"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-central/iamwarden-guardduty-disabled": '{"pattern": {"detail": {"errorCode": [{"exists": false}], "eventName": ["CreateFilter", "CreateIPSet", "DeleteDetector", "DeleteMembers", "DisassociateFromAdministratorAccount", "DisassociateFromMasterAccount", "DisassociateMembers", "UpdateDetector", "UpdateFilter", "UpdateIPSet"], "eventSource": ["guardduty.amazonaws.com"], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.guardduty"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-central/iamwarden-iam-user-created": '{"pattern": {"detail": {"errorCode": [{"exists": false}], "eventName": ["CreateUser"], "eventSource": ["iam.amazonaws.com"], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.iam"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-central/iamwarden-identity-provider-unknown": '{"pattern": {"detail": {"errorCode": [{"exists": false}], "eventName": ["AddClientIDToOpenIDConnectProvider", "CreateOpenIDConnectProvider", "CreateSAMLProvider", "UpdateOpenIDConnectProviderThumbprint", "UpdateSAMLProvider"], "eventSource": ["iam.amazonaws.com"], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.iam"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-central/iamwarden-inline-policy-put": '{"pattern": {"detail": {"errorCode": [{"exists": false}], "eventName": ["PutGroupPolicy", "PutRolePolicy", "PutUserPolicy"], "eventSource": ["iam.amazonaws.com"], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.iam"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-central/iamwarden-kms-grant-cross-account": '{"pattern": {"detail": {"errorCode": [{"exists": false}], "eventName": ["CreateGrant"], "eventSource": ["kms.amazonaws.com"], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.kms"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-central/iamwarden-kms-key-policy-public": '{"pattern": {"detail": {"errorCode": [{"exists": false}], "eventName": ["CreateKey", "PutKeyPolicy"], "eventSource": ["kms.amazonaws.com"], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.kms"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-central/iamwarden-lambda-function-url-public": '{"pattern": {"detail": {"errorCode": [{"exists": false}], "eventName": ["CreateFunctionUrlConfig20211031", "UpdateFunctionUrlConfig20211031"], "eventSource": ["lambda.amazonaws.com"], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.lambda"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-central/iamwarden-lambda-permission-public": '{"pattern": {"detail": {"errorCode": [{"exists": false}], "eventName": ["AddLayerVersionPermission20181031", "AddPermission20150331", "AddPermission20150331v2"], "eventSource": ["lambda.amazonaws.com"], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.lambda"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-central/iamwarden-logs-destination-policy-public": '{"pattern": {"detail": {"errorCode": [{"exists": false}], "eventName": ["PutDestinationPolicy"], "eventSource": ["logs.amazonaws.com"], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.logs"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-central/iamwarden-managed-policy-attached": '{"pattern": {"detail": {"errorCode": [{"exists": false}], "eventName": ["AttachGroupPolicy", "AttachRolePolicy", "AttachUserPolicy"], "eventSource": ["iam.amazonaws.com"], "requestParameters": {"policyArn": [{"prefix": "arn:aws:iam::aws:policy/"}, {"prefix": "arn:aws-cn:iam::aws:policy/"}, {"prefix": "arn:aws-us-gov:iam::aws:policy/"}]}, "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.iam"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-central/iamwarden-opensearch-access-policy-public": '{"pattern": {"detail": {"errorCode": [{"exists": false}], "eventName": ["CreateDomain", "CreateElasticsearchDomain", "UpdateDomainConfig", "UpdateElasticsearchDomainConfig"], "eventSource": ["es.amazonaws.com"], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.es"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-central/iamwarden-organization-left": '{"pattern": {"detail": {"errorCode": [{"exists": false}], "eventName": ["AccountDepartedOrganization", "LeaveOrganization"], "eventSource": ["organizations.amazonaws.com"], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail", "AWS Service Event via CloudTrail"], "source": ["aws.organizations"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-central/iamwarden-permission-set-admin": '{"pattern": {"detail": {"errorCode": [{"exists": false}], "eventName": ["AttachCustomerManagedPolicyReferenceToPermissionSet", "AttachManagedPolicyToPermissionSet", "CreateAccountAssignment", "DeletePermissionsBoundaryFromPermissionSet", "PutInlinePolicyToPermissionSet", "PutPermissionsBoundaryToPermissionSet"], "eventSource": ["sso.amazonaws.com"], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.sso"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-central/iamwarden-permissions-boundary-weakened": '{"pattern": {"detail": {"errorCode": [{"exists": false}], "eventName": ["DeleteRolePermissionsBoundary", "DeleteUserPermissionsBoundary", "PutRolePermissionsBoundary", "PutUserPermissionsBoundary"], "eventSource": ["iam.amazonaws.com"], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.iam"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-central/iamwarden-policy-version-changed": '{"pattern": {"detail": {"errorCode": [{"exists": false}], "eventName": ["CreatePolicyVersion", "SetDefaultPolicyVersion"], "eventSource": ["iam.amazonaws.com"], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.iam"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-central/iamwarden-public-access-block-changed": '{"pattern": {"detail": {"errorCode": [{"exists": false}], "eventName": ["DeleteAccountPublicAccessBlock", "DeleteBucketPublicAccessBlock", "PutAccountPublicAccessBlock", "PutBucketPublicAccessBlock"], "eventSource": ["s3.amazonaws.com"], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.s3"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-central/iamwarden-rds-snapshot-shared": '{"pattern": {"detail": {"errorCode": [{"exists": false}], "eventName": ["ModifyDBClusterSnapshotAttribute", "ModifyDBSnapshotAttribute"], "eventSource": ["rds.amazonaws.com"], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.rds"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-central/iamwarden-remediation-reversed-rolesanywhere": '{"pattern": {"detail": {"errorCode": [{"exists": false}], "eventName": ["EnableProfile", "EnableTrustAnchor"], "eventSource": ["rolesanywhere.amazonaws.com"], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.rolesanywhere"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-central/iamwarden-roles-anywhere-trust-anchor": '{"pattern": {"detail": {"errorCode": [{"exists": false}], "eventName": ["CreateProfile", "CreateTrustAnchor", "DeleteAttributeMapping", "DeleteCrl", "DisableCrl", "PutAttributeMapping", "UpdateProfile", "UpdateTrustAnchor"], "eventSource": ["rolesanywhere.amazonaws.com"], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.rolesanywhere"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-central/iamwarden-s3-access-point-policy-public": '{"pattern": {"detail": {"errorCode": [{"exists": false}], "eventName": ["PutAccessPointPolicy"], "eventSource": ["s3.amazonaws.com"], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.s3"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-central/iamwarden-s3-multi-region-access-point-policy-public": '{"pattern": {"detail": {"errorCode": [{"exists": false}], "eventName": ["PutMultiRegionAccessPointPolicy"], "eventSource": ["s3.amazonaws.com"], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.s3"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-central/iamwarden-s3-object-lambda-access-point-policy-public": '{"pattern": {"detail": {"errorCode": [{"exists": false}], "eventName": ["PutAccessPointPolicyForObjectLambda"], "eventSource": ["s3.amazonaws.com"], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.s3"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-central/iamwarden-secret-policy-public": '{"pattern": {"detail": {"errorCode": [{"exists": false}], "eventName": ["PutResourcePolicy"], "eventSource": ["secretsmanager.amazonaws.com"], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.secretsmanager"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-central/iamwarden-securityhub-disabled": '{"pattern": {"detail": {"errorCode": [{"exists": false}], "eventName": ["BatchDisableStandards", "DisableImportFindingsForProduct", "DisableSecurityHub"], "eventSource": ["securityhub.amazonaws.com"], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.securityhub"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-central/iamwarden-sns-topic-policy-public": '{"pattern": {"detail": {"errorCode": [{"exists": false}], "eventName": ["AddPermission", "CreateTopic", "SetTopicAttributes"], "eventSource": ["sns.amazonaws.com"], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.sns"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-central/iamwarden-sqs-queue-policy-public": '{"pattern": {"detail": {"errorCode": [{"exists": false}], "eventName": ["AddPermission", "CreateQueue", "SetQueueAttributes"], "eventSource": ["sqs.amazonaws.com"], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.sqs"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-central/iamwarden-tampered-member-rules": '{"pattern": {"detail": {"$or": [{"requestParameters": {"name": ["iamwarden-forward-iam", "iamwarden-forward-s3", "iamwarden-forward-guard-a", "iamwarden-forward-guard-b"]}}, {"requestParameters": {"rule": ["iamwarden-forward-iam", "iamwarden-forward-s3", "iamwarden-forward-guard-a", "iamwarden-forward-guard-b"]}}], "errorCode": [{"exists": false}], "eventName": ["DeleteRule", "DisableRule", "PutRule", "PutTargets", "RemoveTargets"], "eventSource": ["events.amazonaws.com"], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.events"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-central/iamwarden-tampered-roles": '{"pattern": {"detail": {"$or": [{"eventName": ["DeleteRole", "DeleteRolePolicy", "DetachRolePolicy", "UpdateRole"], "requestParameters": {"roleName": ["${role:enforcer}", "${role:pruner}", "${role:heartbeat}", "${role:exception-watch}", "${role:slack-interactions}", "${role:event-forwarder}", "${member-role:remediator}", "iamwarden-pruner-member", "iamwarden-snapshot-reader", {"prefix": "iamwarden-member-forwarder-"}]}}, {"eventName": ["DeletePolicy", "DeletePolicyVersion"], "requestParameters": {"policyArn": ["arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/iamwarden-enforcer-remediations-1-${AWS::Region}", "arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/iamwarden-enforcer-remediations-2-${AWS::Region}", "arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/iamwarden-enforcer-remediations-3-${AWS::Region}", {"suffix": ":policy/${member-role:remediator}-remediations-1"}, {"suffix": ":policy/${member-role:remediator}-remediations-2"}, {"suffix": ":policy/${member-role:remediator}-remediations-3"}]}}], "errorCode": [{"exists": false}], "eventName": ["DeletePolicy", "DeletePolicyVersion", "DeleteRole", "DeleteRolePolicy", "DetachRolePolicy", "UpdateRole"], "eventSource": ["iam.amazonaws.com"], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.iam"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-central/iamwarden-trust-policy-changed": '{"pattern": {"detail": {"errorCode": [{"exists": false}], "eventName": ["CreateRole", "UpdateAssumeRolePolicy"], "eventSource": ["iam.amazonaws.com"], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.iam"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
        "iamwarden-exception-watch": '{"pattern": null, "schedule": "rate(1 hour)", "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-exception-watch"}',  # noqa: E501
        "iamwarden-forward-own-events": '{"pattern": {"detail": {"$or": [{"eventCategory": ["Management"]}, {"eventName": ["PutObjectAcl"]}], "errorCode": [{"exists": false}], "eventSource": ["backup.amazonaws.com", "cloudtrail.amazonaws.com", "config.amazonaws.com", "dynamodb.amazonaws.com", "ec2.amazonaws.com", "ecr.amazonaws.com", "elasticfilesystem.amazonaws.com", "es.amazonaws.com", "events.amazonaws.com", "glacier.amazonaws.com", "guardduty.amazonaws.com", "iam.amazonaws.com", "kms.amazonaws.com", "lambda.amazonaws.com", "logs.amazonaws.com", "organizations.amazonaws.com", "rds.amazonaws.com", "rolesanywhere.amazonaws.com", "s3.amazonaws.com", "secretsmanager.amazonaws.com", "securityhub.amazonaws.com", "sns.amazonaws.com", "sqs.amazonaws.com", "sso.amazonaws.com"], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail", "AWS Service Event via CloudTrail"], "source": ["aws.backup", "aws.cloudtrail", "aws.config", "aws.dynamodb", "aws.ec2", "aws.ecr", "aws.elasticfilesystem", "aws.es", "aws.events", "aws.glacier", "aws.guardduty", "aws.iam", "aws.kms", "aws.lambda", "aws.logs", "aws.organizations", "aws.rds", "aws.rolesanywhere", "aws.s3", "aws.secretsmanager", "aws.securityhub", "aws.sns", "aws.sqs", "aws.sso"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/iamwarden-central"}',  # noqa: E501
        "iamwarden-heartbeat": '{"pattern": null, "schedule": "rate(5 minutes)", "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-heartbeat"}',  # noqa: E501
        "iamwarden-prune-schedule": '{"pattern": null, "schedule": "cron(0 6 * * ? *)", "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-prune-planner"}',  # noqa: E501
        "iamwarden-prune-watch": '{"pattern": {"detail": {"errorCode": ["AccessDenied", "AccessDeniedException", "Client.UnauthorizedOperation", "UnauthorizedOperation"], "userIdentity": {"type": ["AssumedRole"]}}, "detail-type": ["AWS API Call via CloudTrail"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-prune-watch"}',  # noqa: E501
        "iamwarden-tampered-stack": '{"pattern": {"detail": {"$or": [{"eventName": ["AddPermission20150331v2", "CreateArchive", "CreateChangeSet", "CreateFunctionUrlConfig20211031", "CreateStackInstances", "DeleteAlarms", "DeleteEventBus", "DeleteFunction20150331", "DeleteFunctionConcurrency20171031", "DeleteFunctionEventInvokeConfig", "DeleteParameter", "DeleteParameters", "DeleteQueue", "DeleteRule", "DeleteStack", "DeleteStackInstances", "DeleteStackSet", "DeleteTable", "DeleteTopic", "DisableAlarmActions", "DisableKey", "DisableRule", "ExecuteChangeSet", "PurgeQueue", "PutDataProtectionPolicy", "PutFunctionConcurrency20171031", "PutFunctionEventInvokeConfig", "PutKeyPolicy", "PutMetricAlarm", "PutParameter", "PutPermission", "PutRule", "PutTargets", "RemovePermission", "RemovePermission20150331v2", "RemoveTargets", "ScheduleKeyDeletion", "SetQueueAttributes", "SetStackPolicy", "SetSubscriptionAttributes", "SetTopicAttributes", "StartReplay", "Unsubscribe", "UpdateContinuousBackups", "UpdateEventBus", "UpdateFunctionCode20150331v2", "UpdateFunctionConfiguration20150331v2", "UpdateFunctionEventInvokeConfig", "UpdateFunctionUrlConfig20211031", "UpdateStack", "UpdateStackInstances", "UpdateStackSet", "UpdateTable", "UpdateTerminationProtection", "UpdateTimeToLive"], "eventSource": ["cloudformation.amazonaws.com", "dynamodb.amazonaws.com", "events.amazonaws.com", "kms.amazonaws.com", "lambda.amazonaws.com", "monitoring.amazonaws.com", "sns.amazonaws.com", "sqs.amazonaws.com", "ssm.amazonaws.com"]}, {"eventName": ["CreateFunction20150331"], "eventSource": ["lambda.amazonaws.com"], "requestParameters": {"role": [{"suffix": {"equals-ignore-case": "/${role:enforcer}"}}, {"suffix": {"equals-ignore-case": "/${role:pruner}"}}, {"suffix": {"equals-ignore-case": "/${role:heartbeat}"}}, {"suffix": {"equals-ignore-case": "/${role:exception-watch}"}}, {"suffix": {"equals-ignore-case": "/${role:slack-interactions}"}}]}}, {"eventName": ["DeleteResourcePolicy", "DeleteSecret", "PutResourcePolicy", "PutSecretValue", "RotateSecret", "UpdateSecret", "UpdateSecretVersionStage"], "eventSource": ["secretsmanager.amazonaws.com"], "requestParameters": {"secretId": ["${secret:iamwarden/slack/security}", "iamwarden/slack/security", "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:iamwarden/slack/security", "${secret:iamwarden/slack/bot}", "iamwarden/slack/bot", "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:iamwarden/slack/bot", "${secret:iamwarden/slack/signing}", "iamwarden/slack/signing", "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:iamwarden/slack/signing"]}}], "errorCode": [{"exists": false}], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:enforcer}/iamwarden-enforcer", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-planner", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-worker", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${role:pruner}/iamwarden-prune-watch"]}, {"exists": false}]}}, "detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.cloudformation", "aws.dynamodb", "aws.events", "aws.kms", "aws.lambda", "aws.cloudwatch", "aws.secretsmanager", "aws.sns", "aws.sqs", "aws.ssm"]}, "schedule": null, "state": "ENABLED", "target": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-enforcer"}',  # noqa: E501
    }
)
#: The reserved concurrency the template declares as a number, by function (the enforcer's is a parameter).
RESERVED_CONCURRENCY: Mapping[str, int] = MappingProxyType(
    {
        "iamwarden-slack-interactions": 5,
    }
)
#: The value of each settings parameter the stack creates, with the template's defaults (relative to the
#: prefix); a value the template computes otherwise is not here.
SETTING_DEFAULTS: Mapping[str, str] = MappingProxyType(
    {
        "cognito_identity_pools": "",
        "enforcement": "on",
        "github_owners": "",
        "prune/always_keep": "iam:PassRole,sts:AssumeRole",
        "prune/enabled": "true",
        "prune/max_roles_per_account": "100",
        "prune/max_roles_per_run": "200",
        "prune/min_role_age_days": "90",
        "prune/mode": "report",
        "prune/notice_days": "7",
        "prune/unused_days": "90",
        "prune/watch_days": "14",
        "root_credentials_remediation": "off",
        "rules/access-key-created/mode": "alert",
        "rules/ami-shared/mode": "alert",
        "rules/backup-vault-policy-cross-account/mode": "alert",
        "rules/backup-vault-policy-public/mode": "alert",
        "rules/cloudtrail-logging-impaired/mode": "alert",
        "rules/config-recording-stopped/mode": "alert",
        "rules/dynamodb-resource-policy-cross-account/mode": "alert",
        "rules/dynamodb-resource-policy-public/mode": "alert",
        "rules/ebs-snapshot-shared/mode": "alert",
        "rules/ecr-repository-policy-cross-account/mode": "alert",
        "rules/ecr-repository-policy-public/mode": "alert",
        "rules/efs-file-system-policy-cross-account/mode": "alert",
        "rules/efs-file-system-policy-public/mode": "alert",
        "rules/event-bus-policy-cross-account/mode": "alert",
        "rules/event-bus-policy-public/mode": "alert",
        "rules/glacier-vault-policy-cross-account/mode": "alert",
        "rules/glacier-vault-policy-public/mode": "alert",
        "rules/group-membership-escalation/mode": "alert",
        "rules/guardduty-disabled/mode": "alert",
        "rules/iam-user-created/mode": "alert",
        "rules/iam-user-created/remediation": "quarantine",
        "rules/iamwarden-tampered/mode": "remediate",
        "rules/iamwarden-tampered/settings_guard": "alert",
        "rules/identity-provider-unknown/mode": "alert",
        "rules/inline-policy-admin/mode": "alert",
        "rules/kms-grant-cross-account/mode": "alert",
        "rules/kms-key-policy-cross-account/mode": "alert",
        "rules/kms-key-policy-public/mode": "alert",
        "rules/lambda-function-url-public/mode": "alert",
        "rules/lambda-permission-cross-account/mode": "alert",
        "rules/lambda-permission-public/mode": "alert",
        "rules/login-profile-created/mode": "alert",
        "rules/logs-destination-policy-cross-account/mode": "alert",
        "rules/logs-destination-policy-public/mode": "alert",
        "rules/managed-policy-attached/mode": "alert",
        "rules/opensearch-access-policy-cross-account/mode": "alert",
        "rules/opensearch-access-policy-public/mode": "alert",
        "rules/organization-left/mode": "alert",
        "rules/permission-set-admin/mode": "alert",
        "rules/permissions-boundary-weakened/mode": "alert",
        "rules/policy-version-admin/delete_version": "keep",
        "rules/policy-version-admin/mode": "alert",
        "rules/privilege-escalation/delete_version": "keep",
        "rules/privilege-escalation/mode": "alert",
        "rules/rds-snapshot-shared/mode": "alert",
        "rules/remediation-reversed/mode": "remediate",
        "rules/roles-anywhere-trust-anchor/mode": "alert",
        "rules/root-access-key-created/mode": "alert",
        "rules/s3-access-point-policy-cross-account/mode": "alert",
        "rules/s3-access-point-policy-public/mode": "alert",
        "rules/s3-acl-cross-account/mode": "alert",
        "rules/s3-acl-public/mode": "alert",
        "rules/s3-bucket-policy-cross-account/mode": "alert",
        "rules/s3-bucket-policy-public/mode": "alert",
        "rules/s3-multi-region-access-point-policy-cross-account/mode": "alert",
        "rules/s3-multi-region-access-point-policy-public/mode": "alert",
        "rules/s3-object-lambda-access-point-policy-cross-account/mode": "alert",
        "rules/s3-object-lambda-access-point-policy-public/mode": "alert",
        "rules/s3-public-access-block-disabled/mode": "alert",
        "rules/secret-policy-cross-account/mode": "alert",
        "rules/secret-policy-public/mode": "alert",
        "rules/securityhub-disabled/mode": "alert",
        "rules/sns-topic-policy-cross-account/mode": "alert",
        "rules/sns-topic-policy-public/mode": "alert",
        "rules/sqs-queue-policy-cross-account/mode": "alert",
        "rules/sqs-queue-policy-public/mode": "alert",
        "rules/trust-policy-untrusted/mode": "alert",
    }
)
#: The member stack's forwarding rules: each EventPattern as JSON, with the ``${...}`` the stack fills in
#: (``${AWS::Partition}``, ``${AWS::AccountId}``, ``${MemberRoleName}``, ``${PrunerMemberRoleName}``).
MEMBER_RULE_PATTERNS: Mapping[str, str] = MappingProxyType(
    {
        "iamwarden-forward-guard-a": '{"source": ["aws.events"], "detail-type": ["AWS API Call via CloudTrail"], "detail": {"eventSource": ["events.amazonaws.com"], "eventName": ["DeleteRule", "DisableRule", "PutRule", "PutTargets", "RemoveTargets"], "errorCode": [{"exists": false}], "$or": [{"requestParameters": {"name": ["iamwarden-forward-iam", "iamwarden-forward-s3", "iamwarden-forward-guard-a", "iamwarden-forward-guard-b"]}}, {"requestParameters": {"rule": ["iamwarden-forward-iam", "iamwarden-forward-s3", "iamwarden-forward-guard-a", "iamwarden-forward-guard-b"]}}]}}',  # noqa: E501
        "iamwarden-forward-guard-b": '{"source": ["aws.events"], "detail-type": ["AWS API Call via CloudTrail"], "detail": {"eventSource": ["events.amazonaws.com"], "eventName": ["DeleteRule", "DisableRule", "PutRule", "PutTargets", "RemoveTargets"], "errorCode": [{"exists": false}], "$or": [{"requestParameters": {"name": ["iamwarden-forward-iam", "iamwarden-forward-s3", "iamwarden-forward-guard-a", "iamwarden-forward-guard-b"]}}, {"requestParameters": {"rule": ["iamwarden-forward-iam", "iamwarden-forward-s3", "iamwarden-forward-guard-a", "iamwarden-forward-guard-b"]}}]}}',  # noqa: E501
        "iamwarden-forward-iam": '{"source": ["aws.iam", "aws.organizations"], "detail-type": ["AWS API Call via CloudTrail", "AWS Service Event via CloudTrail"], "detail": {"eventSource": ["iam.amazonaws.com", "organizations.amazonaws.com"], "eventCategory": ["Management"], "errorCode": [{"exists": false}], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${MemberRoleName}/iamwarden", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${PrunerMemberRoleName}/iamwarden"]}, {"exists": false}]}}}',  # noqa: E501
        "iamwarden-forward-s3": '{"source": ["aws.backup", "aws.cloudtrail", "aws.config", "aws.dynamodb", "aws.ec2", "aws.ecr", "aws.elasticfilesystem", "aws.es", "aws.events", "aws.glacier", "aws.guardduty", "aws.kms", "aws.lambda", "aws.logs", "aws.rds", "aws.rolesanywhere", "aws.s3", "aws.secretsmanager", "aws.securityhub", "aws.sns", "aws.sqs", "aws.sso"], "detail-type": ["AWS API Call via CloudTrail"], "detail": {"eventSource": ["backup.amazonaws.com", "cloudtrail.amazonaws.com", "config.amazonaws.com", "dynamodb.amazonaws.com", "ec2.amazonaws.com", "ecr.amazonaws.com", "elasticfilesystem.amazonaws.com", "es.amazonaws.com", "events.amazonaws.com", "glacier.amazonaws.com", "guardduty.amazonaws.com", "kms.amazonaws.com", "lambda.amazonaws.com", "logs.amazonaws.com", "rds.amazonaws.com", "rolesanywhere.amazonaws.com", "s3.amazonaws.com", "secretsmanager.amazonaws.com", "securityhub.amazonaws.com", "sns.amazonaws.com", "sqs.amazonaws.com", "sso.amazonaws.com"], "$or": [{"eventCategory": ["Management"]}, {"eventName": ["PutObjectAcl"]}], "errorCode": [{"exists": false}], "userIdentity": {"arn": [{"anything-but": ["arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${MemberRoleName}/iamwarden", "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${PrunerMemberRoleName}/iamwarden"]}, {"exists": false}]}}}',  # noqa: E501
    }
)
#: Each function of the security account's stack as the heartbeat compares it: its handler, runtime and the
#: names of its environment variables (JSON).
OWN_FUNCTIONS: Mapping[str, str] = MappingProxyType(
    {
        "iamwarden-enforcer": '{"environment": ["IAMWARDEN_ALERT_KEY_ARN", "IAMWARDEN_ALERT_TOPIC_ARN", "IAMWARDEN_AUDIT_TABLE", "IAMWARDEN_CENTRAL_BUS_NAME", "IAMWARDEN_DEAD_LETTER_QUEUE", "IAMWARDEN_ENFORCER_POLICY_ARNS", "IAMWARDEN_ENFORCER_RESERVED_CONCURRENCY", "IAMWARDEN_EXCEPTIONS_TABLE", "IAMWARDEN_HOME_ACCOUNT", "IAMWARDEN_IDEMPOTENCY_TABLE", "IAMWARDEN_MAX_EVENT_AGE_SECONDS", "IAMWARDEN_MEMBER_POLICY_NAMES", "IAMWARDEN_MEMBER_ROLE_NAME", "IAMWARDEN_MEMBER_ROLE_NAMES", "IAMWARDEN_MEMBER_RULES", "IAMWARDEN_MEMBER_STACK_SET", "IAMWARDEN_ORGANIZATION_ID", "IAMWARDEN_OWN_ALARMS", "IAMWARDEN_OWN_FUNCTIONS", "IAMWARDEN_OWN_FUNCTION_ROLES", "IAMWARDEN_OWN_QUEUES", "IAMWARDEN_OWN_ROLE_ARNS", "IAMWARDEN_OWN_SIGNED_URL_FUNCTIONS", "IAMWARDEN_OWN_TABLES", "IAMWARDEN_REGIONS", "IAMWARDEN_SETTINGS_MAX_AGE", "IAMWARDEN_SETTINGS_PREFIX", "IAMWARDEN_SLACK_BOT_SECRET", "IAMWARDEN_SLACK_SECURITY_CHANNEL", "IAMWARDEN_SLACK_SIGNING_SECRET", "IAMWARDEN_SLACK_WEBHOOK_SECRET", "IAMWARDEN_STACK_NAME", "IAMWARDEN_USER_REMEDIATION", "IAMWARDEN_XRAY_SDK_TRACING", "POWERTOOLS_LOG_LEVEL", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_SERVICE_NAME"], "handler": "app.lambda_handler", "runtime": "python3.13"}',  # noqa: E501
        "iamwarden-exception-watch": '{"environment": ["IAMWARDEN_ALERT_KEY_ARN", "IAMWARDEN_ALERT_TOPIC_ARN", "IAMWARDEN_CENTRAL_BUS_NAME", "IAMWARDEN_ENFORCER_RESERVED_CONCURRENCY", "IAMWARDEN_EXCEPTIONS_TABLE", "IAMWARDEN_HOME_ACCOUNT", "IAMWARDEN_MEMBER_ROLE_NAME", "IAMWARDEN_MEMBER_ROLE_NAMES", "IAMWARDEN_MEMBER_RULES", "IAMWARDEN_MEMBER_STACK_SET", "IAMWARDEN_ORGANIZATION_ID", "IAMWARDEN_OWN_ALARMS", "IAMWARDEN_OWN_FUNCTIONS", "IAMWARDEN_OWN_FUNCTION_ROLES", "IAMWARDEN_OWN_QUEUES", "IAMWARDEN_OWN_ROLE_ARNS", "IAMWARDEN_OWN_SIGNED_URL_FUNCTIONS", "IAMWARDEN_OWN_TABLES", "IAMWARDEN_REGIONS", "IAMWARDEN_SETTINGS_MAX_AGE", "IAMWARDEN_SETTINGS_PREFIX", "IAMWARDEN_SLACK_WEBHOOK_SECRET", "IAMWARDEN_STACK_NAME", "IAMWARDEN_USER_REMEDIATION", "IAMWARDEN_XRAY_SDK_TRACING", "POWERTOOLS_LOG_LEVEL", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_SERVICE_NAME"], "handler": "app.lambda_handler", "runtime": "python3.13"}',  # noqa: E501
        "iamwarden-heartbeat": '{"environment": ["IAMWARDEN_ALERT_KEY_ARN", "IAMWARDEN_ALERT_TOPIC_ARN", "IAMWARDEN_AUDIT_TABLE", "IAMWARDEN_CENTRAL_BUS_ARN", "IAMWARDEN_CENTRAL_BUS_NAME", "IAMWARDEN_DEAD_LETTER_QUEUE_ARN", "IAMWARDEN_DEAD_LETTER_QUEUE_URL", "IAMWARDEN_ENFORCER_ARN", "IAMWARDEN_ENFORCER_POLICY_ARNS", "IAMWARDEN_ENFORCER_RESERVED_CONCURRENCY", "IAMWARDEN_ENFORCER_ROLE_NAME", "IAMWARDEN_EXCEPTIONS_TABLE", "IAMWARDEN_EXCEPTION_WATCH_ARN", "IAMWARDEN_FORWARDER_ROLE_ARN", "IAMWARDEN_HOME_ACCOUNT", "IAMWARDEN_MEMBER_ROLE_NAME", "IAMWARDEN_MEMBER_ROLE_NAMES", "IAMWARDEN_MEMBER_RULES", "IAMWARDEN_MEMBER_STACK_SET", "IAMWARDEN_ORGANIZATION_ID", "IAMWARDEN_OWN_ALARMS", "IAMWARDEN_OWN_FUNCTIONS", "IAMWARDEN_OWN_FUNCTION_ROLES", "IAMWARDEN_OWN_QUEUES", "IAMWARDEN_OWN_ROLE_ARNS", "IAMWARDEN_OWN_SIGNED_URL_FUNCTIONS", "IAMWARDEN_OWN_TABLES", "IAMWARDEN_PRUNE_PLANNER_ARN", "IAMWARDEN_PRUNE_WATCH_ARN", "IAMWARDEN_REGIONS", "IAMWARDEN_SETTINGS_MAX_AGE", "IAMWARDEN_SETTINGS_PREFIX", "IAMWARDEN_SLACK_BOT_SECRET", "IAMWARDEN_SLACK_SIGNING_SECRET", "IAMWARDEN_SLACK_WEBHOOK_SECRET", "IAMWARDEN_SNAPSHOT_ROLE_NAME", "IAMWARDEN_STACK_NAME", "IAMWARDEN_USER_REMEDIATION", "IAMWARDEN_XRAY_SDK_TRACING", "POWERTOOLS_LOG_LEVEL", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_SERVICE_NAME"], "handler": "app.lambda_handler", "runtime": "python3.13"}',  # noqa: E501
        "iamwarden-prune-planner": '{"environment": ["IAMWARDEN_ALERT_KEY_ARN", "IAMWARDEN_ALERT_TOPIC_ARN", "IAMWARDEN_CENTRAL_BUS_NAME", "IAMWARDEN_ENFORCER_RESERVED_CONCURRENCY", "IAMWARDEN_EXCEPTIONS_TABLE", "IAMWARDEN_HOME_ACCOUNT", "IAMWARDEN_MEMBER_ROLE_NAME", "IAMWARDEN_MEMBER_ROLE_NAMES", "IAMWARDEN_MEMBER_RULES", "IAMWARDEN_MEMBER_STACK_SET", "IAMWARDEN_ORGANIZATION_ID", "IAMWARDEN_OWN_ALARMS", "IAMWARDEN_OWN_FUNCTIONS", "IAMWARDEN_OWN_FUNCTION_ROLES", "IAMWARDEN_OWN_QUEUES", "IAMWARDEN_OWN_ROLE_ARNS", "IAMWARDEN_OWN_SIGNED_URL_FUNCTIONS", "IAMWARDEN_OWN_TABLES", "IAMWARDEN_PRUNE_QUEUE_URL", "IAMWARDEN_PRUNE_TABLE", "IAMWARDEN_REGIONS", "IAMWARDEN_SETTINGS_MAX_AGE", "IAMWARDEN_SETTINGS_PREFIX", "IAMWARDEN_SLACK_WEBHOOK_SECRET", "IAMWARDEN_STACK_NAME", "IAMWARDEN_USER_REMEDIATION", "IAMWARDEN_XRAY_SDK_TRACING", "POWERTOOLS_LOG_LEVEL", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_SERVICE_NAME"], "handler": "app.lambda_handler", "runtime": "python3.13"}',  # noqa: E501
        "iamwarden-prune-watch": '{"environment": ["IAMWARDEN_ALERT_KEY_ARN", "IAMWARDEN_ALERT_TOPIC_ARN", "IAMWARDEN_CENTRAL_BUS_NAME", "IAMWARDEN_ENFORCER_RESERVED_CONCURRENCY", "IAMWARDEN_EXCEPTIONS_TABLE", "IAMWARDEN_HOME_ACCOUNT", "IAMWARDEN_MEMBER_ROLE_NAME", "IAMWARDEN_MEMBER_ROLE_NAMES", "IAMWARDEN_MEMBER_RULES", "IAMWARDEN_MEMBER_STACK_SET", "IAMWARDEN_ORGANIZATION_ID", "IAMWARDEN_OWN_ALARMS", "IAMWARDEN_OWN_FUNCTIONS", "IAMWARDEN_OWN_FUNCTION_ROLES", "IAMWARDEN_OWN_QUEUES", "IAMWARDEN_OWN_ROLE_ARNS", "IAMWARDEN_OWN_SIGNED_URL_FUNCTIONS", "IAMWARDEN_OWN_TABLES", "IAMWARDEN_PRUNE_TABLE", "IAMWARDEN_REGIONS", "IAMWARDEN_SETTINGS_MAX_AGE", "IAMWARDEN_SETTINGS_PREFIX", "IAMWARDEN_SLACK_WEBHOOK_SECRET", "IAMWARDEN_STACK_NAME", "IAMWARDEN_USER_REMEDIATION", "IAMWARDEN_XRAY_SDK_TRACING", "POWERTOOLS_LOG_LEVEL", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_SERVICE_NAME"], "handler": "app.lambda_handler", "runtime": "python3.13"}',  # noqa: E501
        "iamwarden-prune-worker": '{"environment": ["IAMWARDEN_ALERT_KEY_ARN", "IAMWARDEN_ALERT_TOPIC_ARN", "IAMWARDEN_CENTRAL_BUS_NAME", "IAMWARDEN_ENFORCER_RESERVED_CONCURRENCY", "IAMWARDEN_EXCEPTIONS_TABLE", "IAMWARDEN_HOME_ACCOUNT", "IAMWARDEN_MEMBER_ROLE_NAME", "IAMWARDEN_MEMBER_ROLE_NAMES", "IAMWARDEN_MEMBER_RULES", "IAMWARDEN_MEMBER_STACK_SET", "IAMWARDEN_ORGANIZATION_ID", "IAMWARDEN_OWN_ALARMS", "IAMWARDEN_OWN_FUNCTIONS", "IAMWARDEN_OWN_FUNCTION_ROLES", "IAMWARDEN_OWN_QUEUES", "IAMWARDEN_OWN_ROLE_ARNS", "IAMWARDEN_OWN_SIGNED_URL_FUNCTIONS", "IAMWARDEN_OWN_TABLES", "IAMWARDEN_PRUNE_TABLE", "IAMWARDEN_REGIONS", "IAMWARDEN_SETTINGS_MAX_AGE", "IAMWARDEN_SETTINGS_PREFIX", "IAMWARDEN_SLACK_WEBHOOK_SECRET", "IAMWARDEN_STACK_NAME", "IAMWARDEN_USER_REMEDIATION", "IAMWARDEN_XRAY_SDK_TRACING", "POWERTOOLS_LOG_LEVEL", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_SERVICE_NAME"], "handler": "app.lambda_handler", "runtime": "python3.13"}',  # noqa: E501
        "iamwarden-slack-interactions": '{"environment": ["IAMWARDEN_ALERT_KEY_ARN", "IAMWARDEN_ALERT_TOPIC_ARN", "IAMWARDEN_AUDIT_TABLE", "IAMWARDEN_CENTRAL_BUS_NAME", "IAMWARDEN_ENFORCER_FUNCTION", "IAMWARDEN_ENFORCER_RESERVED_CONCURRENCY", "IAMWARDEN_EXCEPTIONS_TABLE", "IAMWARDEN_HOME_ACCOUNT", "IAMWARDEN_IDEMPOTENCY_TABLE", "IAMWARDEN_MEMBER_ROLE_NAME", "IAMWARDEN_MEMBER_ROLE_NAMES", "IAMWARDEN_MEMBER_RULES", "IAMWARDEN_MEMBER_STACK_SET", "IAMWARDEN_ORGANIZATION_ID", "IAMWARDEN_OWN_ALARMS", "IAMWARDEN_OWN_FUNCTIONS", "IAMWARDEN_OWN_FUNCTION_ROLES", "IAMWARDEN_OWN_QUEUES", "IAMWARDEN_OWN_ROLE_ARNS", "IAMWARDEN_OWN_SIGNED_URL_FUNCTIONS", "IAMWARDEN_OWN_TABLES", "IAMWARDEN_REGIONS", "IAMWARDEN_SETTINGS_MAX_AGE", "IAMWARDEN_SETTINGS_PREFIX", "IAMWARDEN_SLACK_BOT_SECRET", "IAMWARDEN_SLACK_SIGNING_SECRET", "IAMWARDEN_SLACK_WEBHOOK_SECRET", "IAMWARDEN_STACK_NAME", "IAMWARDEN_USER_REMEDIATION", "IAMWARDEN_XRAY_SDK_TRACING", "POWERTOOLS_LOG_LEVEL", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_SERVICE_NAME"], "handler": "app.lambda_handler", "runtime": "python3.13"}',  # noqa: E501
    }
)
#: The environment variables the template's Globals give every function, the same value in each.
SHARED_ENVIRONMENT: frozenset[str] = frozenset(
    {
        "IAMWARDEN_ALERT_KEY_ARN",
        "IAMWARDEN_ALERT_TOPIC_ARN",
        "IAMWARDEN_CENTRAL_BUS_NAME",
        "IAMWARDEN_ENFORCER_RESERVED_CONCURRENCY",
        "IAMWARDEN_EXCEPTIONS_TABLE",
        "IAMWARDEN_HOME_ACCOUNT",
        "IAMWARDEN_MEMBER_ROLE_NAME",
        "IAMWARDEN_MEMBER_ROLE_NAMES",
        "IAMWARDEN_MEMBER_RULES",
        "IAMWARDEN_MEMBER_STACK_SET",
        "IAMWARDEN_ORGANIZATION_ID",
        "IAMWARDEN_OWN_ALARMS",
        "IAMWARDEN_OWN_FUNCTIONS",
        "IAMWARDEN_OWN_FUNCTION_ROLES",
        "IAMWARDEN_OWN_QUEUES",
        "IAMWARDEN_OWN_ROLE_ARNS",
        "IAMWARDEN_OWN_SIGNED_URL_FUNCTIONS",
        "IAMWARDEN_OWN_TABLES",
        "IAMWARDEN_REGIONS",
        "IAMWARDEN_SETTINGS_MAX_AGE",
        "IAMWARDEN_SETTINGS_PREFIX",
        "IAMWARDEN_SLACK_WEBHOOK_SECRET",
        "IAMWARDEN_STACK_NAME",
        "IAMWARDEN_USER_REMEDIATION",
        "IAMWARDEN_XRAY_SDK_TRACING",
        "POWERTOOLS_LOG_LEVEL",
        "POWERTOOLS_METRICS_NAMESPACE",
        "POWERTOOLS_SERVICE_NAME",
    }
)
#: The alert key's policy as template.yaml declares it (``AlertKey``), as JSON: ``${AWS::Partition}`` and
#: ``${AWS::AccountId}`` where the stack fills them in, ``${role-arn:KIND}`` for an own role's ARN
#: (``declared_content.fill`` fills them all).
ALERT_KEY_POLICY = '{"Statement": [{"Action": "kms:*", "Effect": "Allow", "Principal": {"AWS": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}, "Resource": "*", "Sid": "AccountAdministers"}, {"Action": ["kms:GenerateDataKey*", "kms:Decrypt"], "Condition": {"StringEquals": {"aws:SourceAccount": "${AWS::AccountId}"}}, "Effect": "Allow", "Principal": {"Service": ["sns.amazonaws.com", "cloudwatch.amazonaws.com", "events.amazonaws.com"]}, "Resource": "*", "Sid": "SnsAndAlarmsUseTheKey"}, {"Action": ["kms:GenerateDataKey*", "kms:Decrypt"], "Effect": "Allow", "Principal": {"AWS": ["${role-arn:enforcer}", "${role-arn:pruner}"]}, "Resource": "*", "Sid": "EnforcerPublishes"}], "Version": "2012-10-17"}'  # noqa: E501
#: The central bus's whole policy as template.yaml declares it (its ``AWS::Events::EventBusPolicy``
#: statements), as JSON: ``${AWS::...}`` and ``${organization-id}`` (``OrganizationId``) to fill in.
CENTRAL_BUS_POLICY = '{"Statement": [{"Action": "events:PutEvents", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "${organization-id}"}}, "Effect": "Allow", "Principal": "*", "Resource": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/iamwarden-central", "Sid": "OrganizationAccountsPutEvents"}], "Version": "2012-10-17"}'  # noqa: E501
# END GENERATED: declared-own
