"""The pruner's pure core: unused-action decisions, plans, policy rewrites, settings and notices."""
