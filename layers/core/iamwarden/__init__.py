"""IAM Warden's domain core: event model, policy analysis, guardrails and plans.

The pure parts of this package import nothing from boto3 at module level, so
rules and policy analysis run (and are tested) without AWS.
"""

__version__ = "0.1.0"
