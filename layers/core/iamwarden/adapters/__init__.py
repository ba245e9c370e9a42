"""Everything that talks to AWS or Slack: clients, errors, audit table, SNS, Slack, owners, SSM settings.

The only modules (with ``iamwarden.prune.adapters``) that import boto3, botocore or slack_sdk.
"""
