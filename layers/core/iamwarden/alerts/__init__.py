"""Alerts: one channel-neutral message per finding and outcome (pure).

``message`` builds the model, ``render`` turns it into text and Markdown, and
``settings`` reads the ``alerts/...`` parameters. The senders live in
``iamwarden.adapters`` (``sns``, ``slack``, ``owners``) and the dispatcher that
routes a message to the owning team in ``iamwarden.app.dispatcher``.

Import the modules, not the package: the enforcer imports ``notifications`` and ``settings`` at every
cold start, and the message model only with the first alert (README, Benchmarks).
"""
