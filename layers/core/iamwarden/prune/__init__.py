"""The Access Advisor pruner: notify, wait, prune, roll back.

Pure parts (settings, decisions, rewrites, plans) import nothing from boto3
and are tested without AWS; ``access_advisor``, ``iam_reader``, ``store`` and
``executor`` talk to AWS through injected clients. Decide, then act: a plan is
data, frozen when announced, and the executor applies exactly it after the
before-state is recorded.
"""
