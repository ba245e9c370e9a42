"""The pruner's use cases: the service, the runtime the three handlers share, wiring and the CLI."""
