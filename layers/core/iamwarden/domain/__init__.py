"""The pure core: events, policy documents, ARNs, exposure, escalation, findings and the settings model.

Imports nothing outside ``iamwarden.domain`` and the standard library: no boto3, no botocore.
"""
