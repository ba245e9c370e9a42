"""The pruner's AWS side: Access Advisor, the IAM reader, the plan store and the executor."""
