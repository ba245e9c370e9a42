"""The use cases: the enforcer service, wiring, the executor, redelivery, replay and the CLI.

May import every other layer; nothing imports it except the Lambda handlers and the CLI entry point.
"""
