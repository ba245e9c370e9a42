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
#: The member stack's forwarding rules: each EventPattern as JSON, with the ``${...}`` the stack fills in
#: (``${AWS::Partition}``, ``${AWS::AccountId}``, ``${MemberRoleName}``, ``${PrunerMemberRoleName}``).
MEMBER_RULE_PATTERNS: Mapping[str, str] = MappingProxyType(
    {
        "iamwarden-forward-guard-a": '{"source": ["aws.events"], "detail-type": ["AWS API Call via CloudTrail"], "detail": {"eventSource": ["events.amazonaws.com"], "eventName": ["DeleteRule", "DisableRule", "PutRule", "PutTargets", "RemoveTargets"], "errorCode": [{"exists": false}], "$or": [{"requestParameters": {"name": ["iamwarden-forward-iam", "iamwarden-forward-s3", "iamwarden-forward-guard-a", "iamwarden-forward-guard-b"]}}, {"requestParameters": {"rule": ["iamwarden-forward-iam", "iamwarden-forward-s3", "iamwarden-forward-guard-a", "iamwarden-forward-guard-b"]}}]}}',  # noqa: E501
        "iamwarden-forward-guard-b": '{"source": ["aws.events"], "detail-type": ["AWS API Call via CloudTrail"], "detail": {"eventSource": ["events.amazonaws.com"], "eventName": ["DeleteRule", "DisableRule", "PutRule", "PutTargets", "RemoveTargets"], "errorCode": [{"exists": false}], "$or": [{"requestParameters": {"name": ["iamwarden-forward-iam", "iamwarden-forward-s3", "iamwarden-forward-guard-a", "iamwarden-forward-guard-b"]}}, {"requestParameters": {"rule": ["iamwarden-forward-iam", "iamwarden-forward-s3", "iamwarden-forward-guard-a", "iamwarden-forward-guard-b"]}}]}}',  # noqa: E501
        "iamwarden-forward-iam": '{"source": ["aws.iam", "aws.organizations"], "detail-type": ["AWS API Call via CloudTrail", "AWS Service Event via CloudTrail"], "detail": {"eventSource": ["iam.amazonaws.com", "organizations.amazonaws.com"], "eventCategory": ["Management"], "errorCode": [{"exists": false}], "userIdentity": {"sessionContext": {"sessionIssuer": {"arn": [{"anything-but": ["arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${MemberRoleName}", "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${PrunerMemberRoleName}"]}, {"exists": false}]}}}}}',  # noqa: E501
        "iamwarden-forward-s3": '{"source": ["aws.backup", "aws.cloudtrail", "aws.config", "aws.dynamodb", "aws.ec2", "aws.ecr", "aws.elasticfilesystem", "aws.es", "aws.events", "aws.glacier", "aws.guardduty", "aws.kms", "aws.lambda", "aws.logs", "aws.rds", "aws.rolesanywhere", "aws.s3", "aws.secretsmanager", "aws.securityhub", "aws.sns", "aws.sqs", "aws.sso"], "detail-type": ["AWS API Call via CloudTrail"], "detail": {"eventSource": ["backup.amazonaws.com", "cloudtrail.amazonaws.com", "config.amazonaws.com", "dynamodb.amazonaws.com", "ec2.amazonaws.com", "ecr.amazonaws.com", "elasticfilesystem.amazonaws.com", "es.amazonaws.com", "events.amazonaws.com", "glacier.amazonaws.com", "guardduty.amazonaws.com", "kms.amazonaws.com", "lambda.amazonaws.com", "logs.amazonaws.com", "rds.amazonaws.com", "rolesanywhere.amazonaws.com", "s3.amazonaws.com", "secretsmanager.amazonaws.com", "securityhub.amazonaws.com", "sns.amazonaws.com", "sqs.amazonaws.com", "sso.amazonaws.com"], "$or": [{"eventCategory": ["Management"]}, {"eventName": ["PutObjectAcl"]}], "errorCode": [{"exists": false}], "userIdentity": {"sessionContext": {"sessionIssuer": {"arn": [{"anything-but": ["arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${MemberRoleName}", "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${PrunerMemberRoleName}"]}, {"exists": false}]}}}}}',  # noqa: E501
    }
)
#: The alert key's policy as template.yaml declares it (``AlertKey``), as JSON: ``${AWS::Partition}`` and
#: ``${AWS::AccountId}`` where the stack fills them in, ``${role:KIND}`` for an own role's ARN.
ALERT_KEY_POLICY = '{"Statement": [{"Action": "kms:*", "Effect": "Allow", "Principal": {"AWS": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}, "Resource": "*", "Sid": "AccountAdministers"}, {"Action": ["kms:GenerateDataKey*", "kms:Decrypt"], "Condition": {"StringEquals": {"aws:SourceAccount": "${AWS::AccountId}"}}, "Effect": "Allow", "Principal": {"Service": ["sns.amazonaws.com", "cloudwatch.amazonaws.com", "events.amazonaws.com"]}, "Resource": "*", "Sid": "SnsAndAlarmsUseTheKey"}, {"Action": ["kms:GenerateDataKey*", "kms:Decrypt"], "Effect": "Allow", "Principal": {"AWS": ["${role:enforcer}", "${role:pruner}"]}, "Resource": "*", "Sid": "EnforcerPublishes"}], "Version": "2012-10-17"}'  # noqa: E501
# END GENERATED: declared-own
