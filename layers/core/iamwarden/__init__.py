"""IAM Warden's core: the domain, the guardrails, the alert model, the adapters and the app, in layers.

``domain``, ``guardrails`` and ``alerts`` import nothing from boto3, so rules and policy analysis
run (and are tested) without AWS; ``tests/unit/test_layers.py`` holds every package to its layer.
"""

__version__ = "0.1.0"
